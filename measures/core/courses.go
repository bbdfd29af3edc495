package core

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Course measures. The site course (id 1, the front page) is never counted as a course.
//
// user_lastaccess keeps only the latest access of each user to each course, so an access
// after the window hides one inside it. The "not accessed" measures therefore treat any
// access at or after the start of their lookback as recent (a course used today is never
// reported as abandoned), while "visited" counts courses whose latest access lies inside
// the window.

// coursesRoleExists is a correlated test: the course c has a role assignment, in its own
// context, of a non-deleted user holding one of the roles given by two IN lists (archetypes,
// then short names).
const coursesRoleExists = `EXISTS (
             SELECT 1
               FROM {context} x
               JOIN {role_assignments} ra ON ra.contextid = x.id
               JOIN {role} r ON r.id = ra.roleid
               JOIN {user} u ON u.id = ra.userid
              WHERE x.contextlevel = 50 AND x.instanceid = c.id AND u.deleted = 0
                AND (r.archetype IN (?) OR r.shortname IN (?)))`

// coursesDaily fills every daily course count in one pass over {course}.
var coursesDaily = &measures.Query{
	Name: "courses.daily",
	SQL: `SELECT COUNT(*) AS allcourses,
       SUM(CASE WHEN c.visible = 1 THEN 1 ELSE 0 END) AS visible,
       SUM(CASE WHEN c.visible = 0 THEN 1 ELSE 0 END) AS nonvisible,
       SUM(CASE WHEN NOT ` + coursesRoleExists + ` THEN 1 ELSE 0 END) AS nostudents,
       SUM(CASE WHEN NOT ` + coursesRoleExists + ` THEN 1 ELSE 0 END) AS noteachers,
       SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM {user_lastaccess} la
                                  WHERE la.courseid = c.id AND la.timeaccess >= ?)
                THEN 1 ELSE 0 END) AS noaccessed,
       SUM(CASE WHEN c.timecreated >= ? AND c.timecreated < ? THEN 1 ELSE 0 END) AS dailycreated,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM {user_lastaccess} la
                              WHERE la.courseid = c.id AND la.timeaccess >= ? AND la.timeaccess < ?)
                THEN 1 ELSE 0 END) AS dailyvisited
  FROM {course} c
 WHERE c.id <> 1`,
	Args: func(p measures.Params) []any {
		return []any{
			p.Roles.Students.Archetypes, p.Roles.Students.Shortnames,
			p.Roles.Teachers.Archetypes, p.Roles.Teachers.Shortnames,
			p.Before(365 * 24 * time.Hour),
			p.From(), p.To(),
			p.From(), p.To(),
		}
	},
	Cost: "One pass over the course table; per course, index lookups in context, role_assignments and user_lastaccess (courseid).",
}

// coursesWeekly fills the weekly course counts.
var coursesWeekly = &measures.Query{
	Name: "courses.weekly",
	SQL: `SELECT SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM {user_lastaccess} la
                                  WHERE la.courseid = c.id AND la.timeaccess >= ?)
                THEN 1 ELSE 0 END) AS weeklyinactive,
       SUM(CASE WHEN c.timecreated >= ? AND c.timecreated < ? THEN 1 ELSE 0 END) AS weeklycreated
  FROM {course} c
 WHERE c.id <> 1`,
	Args: func(p measures.Params) []any {
		return []any{p.From(), p.From(), p.To()}
	},
	Cost: "One pass over the course table with an index lookup in user_lastaccess (courseid) per course.",
}

// coursesTopSQL ranks courses by web log events in [?, ?), leaving out logged-in-as events,
// site-level events (courseid 0) and the site course. Ties go to the lower course id. The
// log rows are counted per course before the course table is joined: given the join first,
// MariaDB reads each course's whole history through the index on courseid (43 s at 10
// million log rows, against 1.6 s for the window's range of timecreated).
const coursesTopSQL = `SELECT c.id AS courseid, c.shortname AS shortname, t.n
  FROM (SELECT l.courseid, COUNT(*) AS n
          FROM {logstore_standard_log} l
         WHERE l.timecreated >= ? AND l.timecreated < ?
           AND l.origin = 'web' AND l.realuserid IS NULL AND l.courseid > 1
         GROUP BY l.courseid) t
  JOIN {course} c ON c.id = t.courseid
 ORDER BY t.n DESC, c.id
 LIMIT 3`

// coursesTop returns a query that formats the top three courses of the period starting at
// from(p) and ending at the window end as "<id> <shortname> (<events>)", joined by ", ".
func coursesTop(name string, from func(p measures.Params) int64, cost string) *measures.Query {
	return &measures.Query{
		Name: name,
		SQL:  coursesTopSQL,
		Args: func(p measures.Params) []any { return []any{from(p), p.To()} },
		Compute: func(ctx context.Context, q measures.Querier, p measures.Params) ([]measures.Row, error) {
			rows, err := q.Query(ctx, coursesTopSQL, from(p), p.To())
			if err != nil {
				return nil, err
			}
			parts := make([]string, 0, len(rows))
			for _, r := range rows {
				parts = append(parts, fmt.Sprintf("%v %v (%v)", r["courseid"], r["shortname"], r["n"]))
			}
			return []measures.Row{{"top3": strings.Join(parts, ", ")}}, nil
		},
		Cost: cost,
	}
}

var (
	coursesTop30d = coursesTop("courses.top3",
		func(p measures.Params) int64 { return p.Before(30 * 24 * time.Hour) },
		"Bounded by timecreated to the 30 days before the window end (log index on timecreated); grouped by course.")
	coursesTopDay = coursesTop("courses.dailytop3",
		func(p measures.Params) int64 { return p.From() },
		"Bounded by timecreated to one day of the log (index on timecreated); grouped by course.")
	coursesTopWeek = coursesTop("courses.weeklytop3",
		func(p measures.Params) int64 { return p.From() },
		"Bounded by timecreated to one week of the log (index on timecreated); grouped by course.")
)

const coursesTopFormat = `The value reads "<id> <shortname> (<events>)" for each course, joined by ", ", and is empty when no course had any event.`

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.courses.all",
			Name:        "Courses",
			Description: "Courses on the site, not counting the site course (front page).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "allcourses",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Courses", Legacy: true,
			Fixes: "The plugin counted the site course as a course.",
		},
		measures.Measure{
			Key:         "moodle.courses.visible",
			Name:        "Courses visible",
			Description: "Courses with visible = 1, not counting the site course; the visibility of their category is ignored.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "visible",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Courses", Dashboard: true, Legacy: true,
			Fixes: "The plugin counted the site course as a visible course.",
		},
		measures.Measure{
			Key:         "moodle.courses.nonvisible",
			Name:        "Courses hidden",
			Description: "Courses with visible = 0 (hidden from students).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "nonvisible",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Courses", Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.courses.nostudents",
			Name:        "Courses without students",
			Description: "Courses (not the site course) where no non-deleted user holds a student-class role in the course context; the student class is the configured role mapping (archetype student by default).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "nostudents",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Courses without participants", Legacy: true,
			Fixes: "The plugin subtracted from a total that included the site course, so it was one too high.",
		},
		measures.Measure{
			Key:         "moodle.courses.noteachers",
			Name:        "Courses without teachers",
			Description: "Courses (not the site course) where no non-deleted user holds a teacher-class role in the course context; the teacher class is the configured role mapping (editing and non-editing teachers by default).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "noteachers",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Courses without participants", Legacy: true,
			Fixes: "The plugin subtracted from a total that included the site course, so it was one too high.",
		},
		measures.Measure{
			Key:         "moodle.courses.noaccessed",
			Name:        "Courses not accessed for a year",
			Description: "Courses (not the site course) that no user has accessed during the 365 days before the end of the day, including courses never accessed; an access recorded after the end of the day counts as recent.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "noaccessed",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Courses without participants", Legacy: true,
			Fixes: "The plugin's query had MAX and HAVING but no GROUP BY, so it returned 0 or 1, failed on PostgreSQL and ignored courses never accessed.",
		},
		measures.Measure{
			Key:         "moodle.courses.top3",
			Name:        "Top 3 courses (30 days)",
			Description: "The three courses with the most web log events during the 30 days before the end of the day, leaving out logged-in-as events and the site course. " + coursesTopFormat,
			Family:      measures.Daily, Type: measures.Text,
			Query: coursesTop30d, Column: "top3",
			Domain: "courses", Legacy: true,
			Fixes: "The plugin used MySQL-only LIMIT 0, 3 with non-aggregated columns, which failed on PostgreSQL and took the daily family down.",
		},
		measures.Measure{
			Key:         "moodle.courses.dailycreated",
			Name:        "Courses created (day)",
			Description: "Courses whose creation time lies within the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "dailycreated",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Course activity (day)", Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.courses.dailyvisited",
			Name:        "Courses visited (day)",
			Description: "Courses (not the site course) with at least one user whose latest recorded access to the course lies within the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: coursesDaily, Column: "dailyvisited",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Course activity (day)", Dashboard: true, Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.courses.dailytop3",
			Name:        "Top 3 courses (day)",
			Description: "The three courses with the most web log events during the day, leaving out logged-in-as events and the site course. " + coursesTopFormat,
			Family:      measures.Daily, Type: measures.Text,
			Query: coursesTopDay, Column: "top3",
			Domain: "courses", Legacy: true,
			Fixes: "The plugin used MySQL-only LIMIT 0, 3 with non-aggregated columns, which failed on PostgreSQL.",
		},
		measures.Measure{
			Key:         "moodle.courses.weeklyinactive",
			Name:        "Courses inactive (week)",
			Description: "Courses (not the site course) that no user has accessed since the start of the week, an access recorded after the week counting as activity.",
			Family:      measures.Weekly, Type: measures.Unsigned, Units: "courses",
			Query: coursesWeekly, Column: "weeklyinactive",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Course activity (week)", Legacy: true,
			Fixes: "The plugin counted the courses accessed during the week, the opposite of its name.",
		},
		measures.Measure{
			Key:         "moodle.courses.weeklycreated",
			Name:        "Courses created (week)",
			Description: "Courses whose creation time lies within the ISO week.",
			Family:      measures.Weekly, Type: measures.Unsigned, Units: "courses",
			Query: coursesWeekly, Column: "weeklycreated",
			Aggregate: measures.Sum, Domain: "courses", Graph: "Course activity (week)", Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.courses.weeklytop3",
			Name:        "Top 3 courses (week)",
			Description: "The three courses with the most web log events during the ISO week, leaving out logged-in-as events and the site course. " + coursesTopFormat,
			Family:      measures.Weekly, Type: measures.Text,
			Query: coursesTopWeek, Column: "top3",
			Domain: "courses", Legacy: true,
			Fixes: "The plugin used MySQL-only LIMIT 0, 3 with non-aggregated columns, which failed on PostgreSQL.",
		},
	)
}
