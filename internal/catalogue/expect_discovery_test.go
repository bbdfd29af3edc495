package catalogue_test

import (
	"slices"
	"sort"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// Independent computations of the discovery rules of measures/core/discovery_categories.go and
// measures/core/discovery_courses.go, and of their item prototypes.

// underPath reports whether path equals top or lies below it.
func underPath(path, top string) bool {
	return path == top || strings.HasPrefix(path, top+"/")
}

// topCategoriesOf returns the categories down to the run's category depth, in sort order.
func topCategoriesOf(x *X) []fixture.CourseCategory {
	var tops []fixture.CourseCategory
	for _, c := range x.M.CourseCategories {
		if c.Depth <= x.P.Depth() {
			tops = append(tops, c)
		}
	}
	sort.SliceStable(tops, func(i, j int) bool {
		if tops[i].SortOrder != tops[j].SortOrder {
			return tops[i].SortOrder < tops[j].SortOrder
		}
		return tops[i].ID < tops[j].ID
	})
	return tops
}

// coursesUnderCategory returns the ids of the courses in the subtree of a top category.
func coursesUnderCategory(x *X, top fixture.CourseCategory) map[int64]bool {
	cats := map[int64]bool{}
	for _, c := range x.M.CourseCategories {
		if underPath(c.Path, top.Path) {
			cats[c.ID] = true
		}
	}
	out := map[int64]bool{}
	for _, c := range x.M.Courses {
		if cats[c.Category] {
			out[c.ID] = true
		}
	}
	return out
}

// selectedCourses returns the courses of interest in id order.
func selectedCourses(x *X) []fixture.Course {
	var out []fixture.Course
	for _, c := range x.M.Courses {
		if c.ID != fixture.SiteCourseID && (slices.Contains(x.P.Courses.IDs, c.ID) || c.IDNumber != "" && slices.Contains(x.P.Courses.IDNumbers, c.IDNumber)) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// logEventsOf counts the window's log events of the courses (all of them) and the distinct
// users who did one of their own (the rules of the site-wide user measures, usrOwn).
func logEventsOf(x *X, courses map[int64]bool) (events, users int) {
	seen := map[int64]bool{}
	for _, l := range x.M.Logs {
		if courses[l.CourseID] && x.in(l.TimeCreated) {
			events++
			if usrOwn(x, l) {
				seen[l.UserID] = true
			}
		}
	}
	return events, len(seen)
}

// enrolledIn counts the distinct non-deleted users with an active enrolment at the window
// end in one of the courses: enrolment and instance enabled, timestart < end and timeend
// unset or after the end.
func enrolledIn(x *X, courses map[int64]bool) int {
	enrols := map[int64]bool{}
	for _, e := range x.M.Enrols {
		if courses[e.CourseID] && e.Status == 0 {
			enrols[e.ID] = true
		}
	}
	alive := map[int64]bool{}
	for _, u := range x.M.Users {
		alive[u.ID] = u.Deleted == 0
	}
	users := map[int64]bool{}
	for _, ue := range x.M.UserEnrolments {
		if enrols[ue.EnrolID] && ue.Status == 0 && alive[ue.UserID] && ue.TimeStart < x.To && (ue.TimeEnd == 0 || ue.TimeEnd > x.To) {
			users[ue.UserID] = true
		}
	}
	return len(users)
}

// topCategorySegs governs the discovered categories: their population is their enrolled users.
func topCategorySegs(x *X) governedSegs {
	var segs []seg
	for _, t := range topCategoriesOf(x) {
		n := float64(enrolledIn(x, coursesUnderCategory(x, t)))
		segs = append(segs, seg{id: itoa(t.ID), macros: map[string]string{"{#CATID}": itoa(t.ID), "{#CATNAME}": t.Name}, pop: n, rank: n})
	}
	return governSegs("moodle.discovery.topcategories", segs, []string{"{#CATID}", "{#CATNAME}"}, false)
}

// perTopCategory evaluates f for every reported category, and for "other".
func perTopCategory(x *X, f func(top fixture.CourseCategory) int64) PerEntity {
	return topCategorySegs(x).per(func(id string) float64 {
		c, _ := x.M.Category(atoi(id))
		return float64(f(c))
	})
}

// selectedCourseSegs governs the courses of interest: their population is their enrolled users.
func selectedCourseSegs(x *X) governedSegs {
	var segs []seg
	for _, c := range selectedCourses(x) {
		n := float64(enrolledIn(x, map[int64]bool{c.ID: true}))
		segs = append(segs, seg{id: itoa(c.ID), macros: map[string]string{"{#COURSEID}": itoa(c.ID), "{#COURSESHORTNAME}": c.ShortName}, pop: n, rank: n})
	}
	return governSegs("moodle.discovery.courses", segs, []string{"{#COURSEID}", "{#COURSESHORTNAME}"}, false)
}

// perSelectedCourse evaluates f for every reported course of interest, and for "other".
func perSelectedCourse(x *X, f func(c fixture.Course) int64) PerEntity {
	return selectedCourseSegs(x).per(func(id string) float64 {
		c, _ := x.M.Course(atoi(id))
		return float64(f(c))
	})
}

func init() {
	expect("moodle.discovery.topcategories", func(x *X) any { return topCategorySegs(x).lld() })
	expect("moodle.topcategory.requests[{#CATID}]", func(x *X) any {
		return perTopCategory(x, func(t fixture.CourseCategory) int64 {
			n, _ := logEventsOf(x, coursesUnderCategory(x, t))
			return int64(n)
		})
	})
	expect("moodle.topcategory.distinctusers[{#CATID}]", func(x *X) any {
		return perTopCategory(x, func(t fixture.CourseCategory) int64 {
			_, n := logEventsOf(x, coursesUnderCategory(x, t))
			return int64(n)
		})
	})
	expect("moodle.topcategory.enrolled[{#CATID}]", func(x *X) any {
		return perTopCategory(x, func(t fixture.CourseCategory) int64 {
			return int64(enrolledIn(x, coursesUnderCategory(x, t)))
		})
	})
	expect("moodle.topcategory.courses[{#CATID}]", func(x *X) any {
		return perTopCategory(x, func(t fixture.CourseCategory) int64 {
			return int64(len(coursesUnderCategory(x, t)))
		})
	})
	expect("moodle.topcategory.storage[{#CATID}]", func(x *X) any {
		return perTopCategory(x, func(t fixture.CourseCategory) int64 {
			var top string
			for _, c := range x.M.Contexts {
				if c.ContextLevel == fixture.ContextCourseCat && c.InstanceID == t.ID {
					top = c.Path
				}
			}
			if top == "" {
				return 0
			}
			ctxs := map[int64]bool{}
			for _, c := range x.M.Contexts {
				if underPath(c.Path, top) {
					ctxs[c.ID] = true
				}
			}
			var bytes int64
			for _, f := range x.M.Files {
				if ctxs[f.ContextID] && f.FileName != "." {
					bytes += f.FileSize
				}
			}
			return bytes
		})
	})

	expect("moodle.discovery.courses", func(x *X) any { return selectedCourseSegs(x).lld() })
	expect("moodle.course.requests[{#COURSEID}]", func(x *X) any {
		return perSelectedCourse(x, func(c fixture.Course) int64 {
			n, _ := logEventsOf(x, map[int64]bool{c.ID: true})
			return int64(n)
		})
	})
	expect("moodle.course.distinctusers[{#COURSEID}]", func(x *X) any {
		return perSelectedCourse(x, func(c fixture.Course) int64 {
			_, n := logEventsOf(x, map[int64]bool{c.ID: true})
			return int64(n)
		})
	})
	expect("moodle.course.enrolled[{#COURSEID}]", func(x *X) any {
		return perSelectedCourse(x, func(c fixture.Course) int64 {
			return int64(enrolledIn(x, map[int64]bool{c.ID: true}))
		})
	})
	expect("moodle.course.completions[{#COURSEID}]", func(x *X) any {
		return perSelectedCourse(x, func(c fixture.Course) int64 {
			var n int64
			for _, cc := range x.M.CourseCompletions {
				if cc.Course == c.ID && cc.TimeCompleted > 0 && cc.TimeCompleted < x.To {
					n++
				}
			}
			return n
		})
	})
	expect("moodle.course.modules[{#COURSEID}]", func(x *X) any {
		return perSelectedCourse(x, func(c fixture.Course) int64 {
			var n int64
			for _, cm := range x.M.CourseModules {
				if cm.Course == c.ID && cm.DeletionInProgress == 0 {
					n++
				}
			}
			return n
		})
	})
}
