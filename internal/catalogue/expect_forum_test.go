package catalogue_test

import (
	"slices"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// forumDiscussionOf returns the discussion a post belongs to.
func forumDiscussionOf(x *X, p fixture.ForumPost) (fixture.ForumDiscussion, bool) {
	for _, d := range x.M.ForumDiscussions {
		if d.ID == p.Discussion {
			return d, true
		}
	}
	return fixture.ForumDiscussion{}, false
}

// forumPostsIn counts the posts created in [from, to).
func forumPostsIn(x *X, from, to int64) int {
	n := 0
	for _, p := range x.M.ForumPosts {
		if p.Created >= from && p.Created < to {
			n++
		}
	}
	return n
}

// forumOpenedIn counts the discussions whose first post was created in [from, to).
func forumOpenedIn(x *X, from, to int64) int {
	n := 0
	for _, d := range x.M.ForumDiscussions {
		for _, p := range x.M.ForumPosts {
			if p.ID == d.FirstPost && p.Created >= from && p.Created < to {
				n++
			}
		}
	}
	return n
}

// forumTeacherIn reports whether user holds a role of the teacher set in the course context of
// course.
func forumTeacherIn(x *X, user, course int64) bool {
	ctx, ok := x.M.ContextOf(fixture.ContextCourse, course)
	if !ok {
		return false
	}
	set := x.P.Roles.Teachers
	for _, ra := range x.M.RoleAssignments {
		if ra.UserID != user || ra.ContextID != ctx.ID {
			continue
		}
		for _, r := range x.M.Roles {
			if r.ID == ra.RoleID && (slices.Contains(set.Archetypes, r.Archetype) || slices.Contains(set.Shortnames, r.ShortName)) {
				return true
			}
		}
	}
	return false
}

// forumActiveEnrolment reports whether user holds an active enrolment in course at time t:
// enrolment and method enabled, started before t, not ended at t, user not deleted.
func forumActiveEnrolment(x *X, user, course, t int64) bool {
	u, ok := x.M.User(user)
	if !ok || u.Deleted != 0 {
		return false
	}
	for _, ue := range x.M.UserEnrolments {
		if ue.UserID != user || ue.Status != 0 || ue.TimeStart >= t || (ue.TimeEnd != 0 && ue.TimeEnd <= t) {
			continue
		}
		for _, e := range x.M.Enrols {
			if e.ID == ue.EnrolID && e.CourseID == course && e.Status == 0 {
				return true
			}
		}
	}
	return false
}

func init() {
	expect("moodle.forum.openeddiscussions", func(x *X) any { return forumOpenedIn(x, x.From, x.To) })
	expect("moodle.forum.posts", func(x *X) any { return forumPostsIn(x, x.From, x.To) })
	expect("moodle.forum.dailyopeneddiscussions", func(x *X) any { return forumOpenedIn(x, x.From, x.To) })
	expect("moodle.forum.dailyposts", func(x *X) any { return forumPostsIn(x, x.From, x.To) })
	expect("moodle.forum.monthlyopeneddiscussions", func(x *X) any { return forumOpenedIn(x, x.From, x.To) })
	expect("moodle.forum.monthlyposts", func(x *X) any { return forumPostsIn(x, x.From, x.To) })

	expect("moodle.forum.weekforumroleratio", func(x *X) any {
		posts, byTeachers := 0, 0
		for _, p := range x.M.ForumPosts {
			if !x.since(p.Created, 7*24*time.Hour) {
				continue
			}
			d, ok := forumDiscussionOf(x, p)
			if !ok {
				continue
			}
			posts++
			if forumTeacherIn(x, p.UserID, d.Course) {
				byTeachers++
			}
		}
		if posts == 0 {
			return 0.0
		}
		return 100 * float64(byTeachers) / float64(posts)
	})

	expect("moodle.forum.participation", func(x *X) any {
		// Courses with posts in the month, and who posted where.
		courses := map[int64]bool{}
		postedIn := map[[2]int64]bool{} // user, course
		for _, p := range x.M.ForumPosts {
			if !x.in(p.Created) {
				continue
			}
			d, ok := forumDiscussionOf(x, p)
			if !ok {
				continue
			}
			courses[d.Course] = true
			postedIn[[2]int64{p.UserID, d.Course}] = true
		}
		enrolled, posters := map[int64]bool{}, map[int64]bool{}
		for _, u := range x.M.Users {
			for c := range courses {
				if !forumActiveEnrolment(x, u.ID, c, x.To) {
					continue
				}
				enrolled[u.ID] = true
				if postedIn[[2]int64{u.ID, c}] {
					posters[u.ID] = true
				}
			}
		}
		if len(enrolled) == 0 {
			return 0.0
		}
		return 100 * float64(len(posters)) / float64(len(enrolled))
	})
}
