package catalogue_test

import "github.com/moodle-zabbix/moodle-zabbix/internal/fixture"

// Independent computations of the assignment measures (measures/core/assign.go).

// submissionsOfDay returns the latest submitted attempts whose submission time (timemodified)
// lies in the window, each with its assignment's due date.
func submissionsOfDay(x *X) (subs []fixture.AssignSubmission, due []int64) {
	dueOf := map[int64]int64{}
	exists := map[int64]bool{}
	for _, a := range x.M.Assigns {
		dueOf[a.ID] = a.DueDate
		exists[a.ID] = true
	}
	for _, s := range x.M.AssignSubmissions {
		if s.Status == "submitted" && s.Latest == 1 && x.in(s.TimeModified) && exists[s.Assignment] {
			subs = append(subs, s)
			due = append(due, dueOf[s.Assignment])
		}
	}
	return subs, due
}

func init() {
	expect("moodle.assign.dailysubmissions", func(x *X) any {
		subs, _ := submissionsOfDay(x)
		return len(subs)
	})
	expect("moodle.assign.dailylatesubmissions", func(x *X) any {
		subs, due := submissionsOfDay(x)
		n := 0
		for i, s := range subs {
			if due[i] > 0 && s.TimeModified > due[i] {
				n++
			}
		}
		return n
	})
	expect("moodle.assign.dailyintimesubmissions", func(x *X) any {
		subs, due := submissionsOfDay(x)
		n := 0
		for i, s := range subs {
			if due[i] == 0 || s.TimeModified <= due[i] {
				n++
			}
		}
		return n
	})
	expect("moodle.assign.activeassigns", func(x *X) any {
		var assignModule int64
		for _, m := range x.M.Modules {
			if m.Name == "assign" {
				assignModule = m.ID
			}
		}
		assigns := map[int64]fixture.Assign{}
		for _, a := range x.M.Assigns {
			assigns[a.ID] = a
		}
		courses := map[int64]fixture.Course{}
		for _, c := range x.M.Courses {
			courses[c.ID] = c
		}
		cats := map[int64]fixture.CourseCategory{}
		for _, c := range x.M.CourseCategories {
			cats[c.ID] = c
		}
		n := 0
		for _, cm := range x.M.CourseModules {
			a, ok := assigns[cm.Instance]
			if cm.Module != assignModule || !ok || cm.Visible != 1 || cm.DeletionInProgress != 0 {
				continue
			}
			c, ok := courses[a.Course]
			if !ok || c.Visible != 1 || c.StartDate >= x.To || c.EndDate != 0 && c.EndDate < x.To {
				continue
			}
			if cat, ok := cats[c.Category]; !ok || cat.Visible != 1 {
				continue
			}
			if a.AllowSubmissionsFromDate >= x.To || a.DueDate != 0 && a.DueDate < x.To {
				continue
			}
			n++
		}
		return n
	})
}
