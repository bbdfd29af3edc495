package catalogue_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Independent computations of the course measures (measures/core/courses.go).

// realCourses returns the real courses: every course but the site course.
func realCourses(x *X) []fixture.Course {
	var out []fixture.Course
	for _, c := range x.M.Courses {
		if c.ID != fixture.SiteCourseID {
			out = append(out, c)
		}
	}
	return out
}

// countCourses counts the real courses that satisfy keep.
func countCourses(x *X, keep func(c fixture.Course) bool) int {
	n := 0
	for _, c := range realCourses(x) {
		if keep(c) {
			n++
		}
	}
	return n
}

// courseRoleIn reports whether role id belongs to the role set (by archetype or short name).
func courseRoleIn(x *X, roleID int64, set measures.RoleSet) bool {
	for _, r := range x.M.Roles {
		if r.ID == roleID {
			return slices.Contains(set.Archetypes, r.Archetype) || slices.Contains(set.Shortnames, r.ShortName)
		}
	}
	return false
}

// courseHasRole reports whether a non-deleted user holds a role of set in the course's context.
func courseHasRole(x *X, courseID int64, set measures.RoleSet) bool {
	ctxs := map[int64]bool{}
	for _, c := range x.M.Contexts {
		if c.ContextLevel == fixture.ContextCourse && c.InstanceID == courseID {
			ctxs[c.ID] = true
		}
	}
	alive := map[int64]bool{}
	for _, u := range x.M.Users {
		alive[u.ID] = u.Deleted == 0
	}
	for _, ra := range x.M.RoleAssignments {
		if ctxs[ra.ContextID] && alive[ra.UserID] && courseRoleIn(x, ra.RoleID, set) {
			return true
		}
	}
	return false
}

// courseAccessedSince reports whether the course has a user_lastaccess row at or after t.
func courseAccessedSince(x *X, courseID, t int64) bool {
	for _, a := range x.M.UserLastAccess {
		if a.CourseID == courseID && a.TimeAccess >= t {
			return true
		}
	}
	return false
}

// topCoursesText ranks the courses by web log events in [from, x.To), without logged-in-as
// events and the site course, and formats the first three.
func topCoursesText(x *X, from int64) string {
	short := map[int64]string{}
	for _, c := range x.M.Courses {
		short[c.ID] = c.ShortName
	}
	counts := map[int64]int{}
	for _, l := range x.M.Logs {
		if l.TimeCreated < from || l.TimeCreated >= x.To || l.Origin != "web" || l.RealUserID != 0 || l.CourseID <= fixture.SiteCourseID {
			continue
		}
		if _, ok := short[l.CourseID]; ok {
			counts[l.CourseID]++
		}
	}
	ids := make([]int64, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if counts[ids[i]] != counts[ids[j]] {
			return counts[ids[i]] > counts[ids[j]]
		}
		return ids[i] < ids[j]
	})
	var parts []string
	for i, id := range ids {
		if i == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%d %s (%d)", id, short[id], counts[id]))
	}
	return strings.Join(parts, ", ")
}

func init() {
	expect("moodle.courses.all", func(x *X) any {
		return len(realCourses(x))
	})
	expect("moodle.courses.visible", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool { return c.Visible == 1 })
	})
	expect("moodle.courses.nonvisible", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool { return c.Visible == 0 })
	})
	expect("moodle.courses.nostudents", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool { return !courseHasRole(x, c.ID, x.P.Roles.Students) })
	})
	expect("moodle.courses.noteachers", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool { return !courseHasRole(x, c.ID, x.P.Roles.Teachers) })
	})
	expect("moodle.courses.noaccessed", func(x *X) any {
		since := x.To - int64(365*24*time.Hour/time.Second)
		return countCourses(x, func(c fixture.Course) bool { return !courseAccessedSince(x, c.ID, since) })
	})
	expect("moodle.courses.top3", func(x *X) any {
		return topCoursesText(x, x.To-int64(30*24*time.Hour/time.Second))
	})
	expect("moodle.courses.dailycreated", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool { return x.in(c.TimeCreated) })
	})
	expect("moodle.courses.dailyvisited", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool {
			for _, a := range x.M.UserLastAccess {
				if a.CourseID == c.ID && x.in(a.TimeAccess) {
					return true
				}
			}
			return false
		})
	})
	expect("moodle.courses.dailytop3", func(x *X) any {
		return topCoursesText(x, x.From)
	})
	expect("moodle.courses.weeklyinactive", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool { return !courseAccessedSince(x, c.ID, x.From) })
	})
	expect("moodle.courses.weeklycreated", func(x *X) any {
		return countCourses(x, func(c fixture.Course) bool { return x.in(c.TimeCreated) })
	})
	expect("moodle.courses.weeklytop3", func(x *X) any {
		return topCoursesText(x, x.From)
	})
}
