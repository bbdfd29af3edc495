package core

import (
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Forum measures: discussions opened and posts written, over the family's window, the share
// of posts written by teachers and the share of enrolled users who posted.
//
// Every window is half-open and comes from the runner: the instant family uses its own
// one-minute window instead of the plugin's five-minute lookback sampled every minute, so a
// post is counted in exactly one instant value and the instant values of an hour add up to
// the posts of that hour. A post is counted when its row was created in the window, replies
// later flagged as deleted included (they were written all the same).

// forumActivitySQL counts, in one pass over the posts created in the window (index on
// created), the posts and the discussions opened: a post opens a discussion when it has no
// parent (Moodle gives a discussion's first post parent 0), so no join is needed.
const forumActivitySQL = `SELECT COUNT(*) AS posts,
       SUM(CASE WHEN p.parent = 0 THEN 1 ELSE 0 END) AS opened
  FROM {forum_posts} p
 WHERE p.created >= ? AND p.created < ?`

// forumActivity returns the posts/discussions query of one family (a query object belongs to
// one family).
func forumActivity(name string) *measures.Query {
	return &measures.Query{
		Name: name,
		SQL:  forumActivitySQL,
		Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
		Cost: "Posts created in the window only (index on forum_posts.created).",
	}
}

var (
	forumInstant = forumActivity("forum.instant")
	forumDaily   = forumActivity("forum.daily")
	forumMonthly = forumActivity("forum.monthly")
)

// forumRoleRatio is the percentage of the posts of the 7 days ending at the window's end whose
// author holds a teacher role (Params.Roles.Teachers, by archetype or short name) in the
// course context of the post's course. One statement; the role test is a correlated EXISTS on
// the role assignments, not one query per post.
var forumRoleRatio = &measures.Query{
	Name: "forum.teacherratio",
	SQL: `SELECT CASE WHEN COUNT(*) = 0 THEN 0
            ELSE 100.0 * SUM(CASE WHEN EXISTS (
                SELECT 1
                  FROM {role_assignments} ra
                  JOIN {context} ctx ON ctx.id = ra.contextid AND ctx.contextlevel = 50
                  JOIN {role} r ON r.id = ra.roleid
                 WHERE ra.userid = p.userid AND ctx.instanceid = d.course
                   AND (r.archetype IN (?) OR r.shortname IN (?))
            ) THEN 1 ELSE 0 END) / COUNT(*) END AS teacherratio
  FROM {forum_posts} p
  JOIN {forum_discussions} d ON d.id = p.discussion
 WHERE p.created >= ? AND p.created < ?`,
	Args: func(p measures.Params) []any {
		t := p.Roles.Teachers
		return []any{t.Archetypes, t.Shortnames, p.Before(7 * 24 * time.Hour), p.To()}
	},
	Cost: "Posts of the last 7 days (index on forum_posts.created); one indexed role-assignment lookup per post inside the same statement.",
}

// forumParticipation is the percentage of the users holding an active enrolment in a course
// that had posts in the window who posted in such a course of theirs. An enrolment is active as
// Moodle's "only active" enrolled-users filter defines it at the window's end: user enrolment
// and enrolment instance enabled, started, not ended, user not deleted.
var forumParticipation = &measures.Query{
	Name: "forum.participation",
	SQL: `SELECT CASE WHEN COUNT(DISTINCT en.userid) = 0 THEN 0
            ELSE 100.0 * COUNT(DISTINCT po.userid) / COUNT(DISTINCT en.userid) END AS participation
  FROM (SELECT DISTINCT e.courseid, ue.userid
          FROM {user_enrolments} ue
          JOIN {enrol} e ON e.id = ue.enrolid
         WHERE ue.status = 0 AND e.status = 0
           AND ` + notDeletedSQL("ue.userid") + `
           AND ue.timestart < ? AND (ue.timeend = 0 OR ue.timeend > ?)
           AND e.courseid IN (
                SELECT d.course
                  FROM {forum_posts} p
                  JOIN {forum_discussions} d ON d.id = p.discussion
                 WHERE p.created >= ? AND p.created < ?)) en
  LEFT JOIN (SELECT DISTINCT d.course, p.userid
               FROM {forum_posts} p
               JOIN {forum_discussions} d ON d.id = p.discussion
              WHERE p.created >= ? AND p.created < ?) po
    ON po.course = en.courseid AND po.userid = en.userid`,
	Args: func(p measures.Params) []any {
		return []any{p.To(), p.To(), p.From(), p.To(), p.From(), p.To()}
	},
	Cost: "Posts of the month (index on forum_posts.created) give the courses and their posters; the active enrolments of those courses are matched to the posters in one join, never one lookup per enrolment.",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:  "moodle.forum.openeddiscussions",
			Name: "Forum discussions opened (1 min)",
			Description: "Forum discussions whose first post was created in the minute that ended when the instant family ran. " +
				"The instant windows do not overlap, so the values of an hour add up to the discussions opened in that hour.",
			Family: measures.Instant, Type: measures.Unsigned, Units: "discussions",
			Query: forumInstant, Column: "opened",
			Aggregate: measures.Sum, Domain: "forum", Graph: "Forum activity (per minute)", Legacy: true,
			Fixes: "The plugin counted a 5-minute lookback every minute, so each discussion was counted up to five times, and it never sent zeros.",
		},
		measures.Measure{
			Key:  "moodle.forum.posts",
			Name: "Forum posts (1 min)",
			Description: "Forum posts (discussion openings and replies) created in the minute that ended when the instant family ran. " +
				"The instant windows do not overlap, so the values of an hour add up to the posts of that hour.",
			Family: measures.Instant, Type: measures.Unsigned, Units: "posts",
			Query: forumInstant, Column: "posts",
			Aggregate: measures.Sum, Domain: "forum", Graph: "Forum activity (per minute)", Dashboard: true, Legacy: true,
			Fixes: "The plugin counted a 5-minute lookback every minute, so each post was counted up to five times, and it never sent zeros.",
		},
		measures.Measure{
			Key:         "moodle.forum.dailyopeneddiscussions",
			Name:        "Forum discussions opened (day)",
			Description: "Forum discussions whose first post was created during the previous calendar day in the site's time zone.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "discussions",
			Query: forumDaily, Column: "opened",
			Aggregate: measures.Sum, Domain: "forum", Graph: "Forum activity (per day)", Legacy: true,
			Fixes: "The plugin used a rolling 24 hours ending whenever its task ran, so late runs overlapped or left gaps; this is the calendar day.",
		},
		measures.Measure{
			Key:         "moodle.forum.dailyposts",
			Name:        "Forum posts (day)",
			Description: "Forum posts (discussion openings and replies) created during the previous calendar day in the site's time zone.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "posts",
			Query: forumDaily, Column: "posts",
			Aggregate: measures.Sum, Domain: "forum", Graph: "Forum activity (per day)", Dashboard: true, Legacy: true,
			Fixes: "The 401 branch divided the count by 60 and every branch used a rolling 24 hours; this is the plain count over the calendar day.",
		},
		measures.Measure{
			Key:  "moodle.forum.weekforumroleratio",
			Name: "Forum posts written by teachers (7 days)",
			Description: "Percentage of the forum posts created in the 7 days ending at the end of the previous calendar day " +
				"whose author holds a teacher role (the configured teacher archetypes or short names) in the course context of the post's course; 0 when there is no post.",
			Family: measures.Daily, Type: measures.Float, Units: "%",
			Query: forumRoleRatio, Column: "teacherratio",
			Aggregate: measures.Avg, Domain: "forum", Legacy: true,
			Fixes: "The plugin evaluated its role policy once per post (one capability check and one query each) and labelled the percentage as messages; this is one statement.",
		},
		measures.Measure{
			Key:         "moodle.forum.monthlyopeneddiscussions",
			Name:        "Forum discussions opened (month)",
			Description: "Forum discussions whose first post was created during the previous calendar month in the site's time zone.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "discussions",
			Query: forumMonthly, Column: "opened",
			Aggregate: measures.Sum, Domain: "forum", Graph: "Forum activity (per month)", Legacy: true,
			Fixes: "The plugin used a rolling 30 days while other monthly keys used the calendar month; this is the calendar month.",
		},
		measures.Measure{
			Key:         "moodle.forum.monthlyposts",
			Name:        "Forum posts (month)",
			Description: "Forum posts (discussion openings and replies) created during the previous calendar month in the site's time zone.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "posts",
			Query: forumMonthly, Column: "posts",
			Aggregate: measures.Sum, Domain: "forum", Graph: "Forum activity (per month)", Legacy: true,
			Fixes: "The plugin divided the count by 60 and used a rolling 30 days; this is the plain count over the calendar month.",
		},
		measures.Measure{
			Key:  "moodle.forum.participation",
			Name: "Forum participation (month)",
			Description: "Percentage of the users with an active enrolment (enrolment and method enabled, started and not ended at the end of the month, user not deleted) " +
				"in a course that had forum posts during the previous calendar month who wrote at least one of those posts in a course they are enrolled in; 0 when no course had posts.",
			Family: measures.Monthly, Type: measures.Float, Units: "%",
			Query: forumParticipation, Column: "participation",
			Aggregate: measures.Avg, Domain: "forum", Legacy: true,
			Fixes: "The plugin never incremented its poster total, so the value was always 0, after calling get_enrolled_users() once per course; this is one statement.",
		},
	)
}
