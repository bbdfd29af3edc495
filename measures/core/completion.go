package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Completion measures.
//
// An activity counts as completed in states 1 (complete) and 2 (complete with a passing
// grade), the two states Moodle's own course completion criteria accept. State 3 (complete
// with a failing grade) is not a completion: it is the state of a learner who must try again.

// completionModules counts activity completions during the day. Moodle removes a module's
// completions before the module itself, so the modules being deleted are left out with NOT
// EXISTS: given a join, MariaDB reads every completion of every module through the index on
// coursemoduleid (4 s at 3 million completions), where the anti-join lets it read the table
// once and the modules being deleted once (0.75 s).
var completionModules = &measures.Query{
	Name: "completion.modules",
	SQL: `SELECT COUNT(*) AS completions, COUNT(DISTINCT cmc.coursemoduleid) AS distinctmodules
  FROM {course_modules_completion} cmc
 WHERE cmc.completionstate IN (1, 2)
   AND cmc.timemodified >= ? AND cmc.timemodified < ?
   AND NOT EXISTS (SELECT 1 FROM {course_modules} cm WHERE cm.id = cmc.coursemoduleid AND cm.deletioninprogress = 1)`,
	Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Cost: "Daily pass over course_modules_completion (timemodified is not indexed in Moodle core).",
}

// completionCourses counts course completions during the day and averages their durations.
// Rows whose start or enrolment time is unknown (0) are left out of the matching average.
var completionCourses = &measures.Query{
	Name: "completion.courses",
	SQL: `SELECT COUNT(*) AS completions,
       AVG(CASE WHEN cc.timestarted > 0 THEN cc.timecompleted - cc.timestarted END) / 86400.0 AS fromstart,
       AVG(CASE WHEN cc.timeenrolled > 0 THEN cc.timecompleted - cc.timeenrolled END) / 86400.0 AS fromenrol
  FROM {course_completions} cc
 WHERE cc.timecompleted >= ? AND cc.timecompleted < ?`,
	Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Cost: "Bounded by timecompleted to one day (course_completions index on timecompleted).",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.completion.dailymodulescompletions",
			Name:        "Activity completions (day)",
			Description: "Activity completion records that reached state complete (1) or complete-pass (2) during the day, on course modules not being deleted.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "completions",
			Query: completionModules, Column: "completions",
			Aggregate: measures.Sum, Domain: "completion", Graph: "Completions (day)", Dashboard: true, Legacy: true,
			Fixes: "The plugin counted only state 1 and missed completions with a passing grade (state 2).",
		},
		measures.Measure{
			Key:         "moodle.completion.dailydistinctmodulescompleted",
			Name:        "Activities completed (day)",
			Description: "Distinct course modules (not being deleted) with at least one activity completion in state complete (1) or complete-pass (2) during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: completionModules, Column: "distinctmodules",
			Aggregate: measures.Sum, Domain: "completion", Graph: "Completions (day)", Legacy: true,
			Fixes: "The plugin counted only state 1 and missed completions with a passing grade (state 2).",
		},
		measures.Measure{
			Key:         "moodle.completion.dailycoursecompletions",
			Name:        "Course completions (day)",
			Description: "Course completions whose completion time lies within the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "completions",
			Query: completionCourses, Column: "completions",
			Aggregate: measures.Sum, Domain: "completion", Graph: "Completions (day)", Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.completion.dailyavgtimetocompletefromstart",
			Name:        "Average days to complete a course from start (day)",
			Description: "Average time in days from course start to course completion, over the course completions of the day whose start time is known (not 0); 0 when there is none.",
			Family:      measures.Daily, Type: measures.Float, Units: "days",
			Query: completionCourses, Column: "fromstart",
			Aggregate: measures.Avg, Domain: "completion", Graph: "Time to complete a course", Legacy: true,
			Fixes: "The plugin averaged rows whose start time was 0, which added decades to the average.",
		},
		measures.Measure{
			Key:         "moodle.completion.dailyavgtimetocompletefromenrol",
			Name:        "Average days to complete a course from enrolment (day)",
			Description: "Average time in days from enrolment to course completion, over the course completions of the day whose enrolment time is known (not 0); 0 when there is none.",
			Family:      measures.Daily, Type: measures.Float, Units: "days",
			Query: completionCourses, Column: "fromenrol",
			Aggregate: measures.Avg, Domain: "completion", Graph: "Time to complete a course", Legacy: true,
			Fixes: "The plugin averaged rows whose enrolment time was 0, which added decades to the average.",
		},
	)
}
