package catalogue_test

import "github.com/moodle-zabbix/moodle-zabbix/internal/fixture"

// Independent computations of the completion measures (measures/core/completion.go).

// completedModulesOfDay returns the activity completions of the window in state complete or
// complete-pass, on course modules not being deleted.
func completedModulesOfDay(x *X) []fixture.CourseModuleCompletion {
	deleting := map[int64]bool{}
	known := map[int64]bool{}
	for _, cm := range x.M.CourseModules {
		known[cm.ID] = true
		deleting[cm.ID] = cm.DeletionInProgress == 1
	}
	var out []fixture.CourseModuleCompletion
	for _, c := range x.M.CourseModulesCompletion {
		done := c.CompletionState == fixture.CompletionComplete || c.CompletionState == fixture.CompletionCompletePass
		if done && x.in(c.TimeModified) && known[c.CourseModuleID] && !deleting[c.CourseModuleID] {
			out = append(out, c)
		}
	}
	return out
}

// courseCompletionDays averages, in days, the time from the instant chosen by origin to the
// completion, over the course completions of the window where that instant is known.
func courseCompletionDays(x *X, origin func(c fixture.CourseCompletion) int64) float64 {
	var sum float64
	n := 0
	for _, c := range x.M.CourseCompletions {
		if c.TimeCompleted == 0 || !x.in(c.TimeCompleted) || origin(c) <= 0 {
			continue
		}
		sum += float64(c.TimeCompleted-origin(c)) / 86400
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func init() {
	expect("moodle.completion.dailymodulescompletions", func(x *X) any {
		return len(completedModulesOfDay(x))
	})
	expect("moodle.completion.dailydistinctmodulescompleted", func(x *X) any {
		cms := map[int64]bool{}
		for _, c := range completedModulesOfDay(x) {
			cms[c.CourseModuleID] = true
		}
		return len(cms)
	})
	expect("moodle.completion.dailycoursecompletions", func(x *X) any {
		n := 0
		for _, c := range x.M.CourseCompletions {
			if c.TimeCompleted != 0 && x.in(c.TimeCompleted) {
				n++
			}
		}
		return n
	})
	expect("moodle.completion.dailyavgtimetocompletefromstart", func(x *X) any {
		return courseCompletionDays(x, func(c fixture.CourseCompletion) int64 { return c.TimeStarted })
	})
	expect("moodle.completion.dailyavgtimetocompletefromenrol", func(x *X) any {
		return courseCompletionDays(x, func(c fixture.CourseCompletion) int64 { return c.TimeEnrolled })
	})
}
