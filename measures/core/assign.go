package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Assignment measures.
//
// A submission's submission time is its timemodified: Moodle sets it when the student
// submits (timecreated is when the submission row first appeared, often as a draft). Only
// the latest attempt of each submission counts. Lateness compares the submission time with
// the assignment's due date; per-user extensions and overrides are not taken into account.

// assignSubmissions counts the day's submissions, split by lateness.
var assignSubmissions = &measures.Query{
	Name: "assign.submissions",
	SQL: `SELECT COUNT(*) AS submissions,
       SUM(CASE WHEN a.duedate > 0 AND s.timemodified > a.duedate THEN 1 ELSE 0 END) AS late,
       SUM(CASE WHEN a.duedate = 0 OR s.timemodified <= a.duedate THEN 1 ELSE 0 END) AS intime
  FROM {assign_submission} s
  JOIN {assign} a ON a.id = s.assignment
 WHERE s.status = 'submitted' AND s.latest = 1
   AND s.timemodified >= ? AND s.timemodified < ?`,
	Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Cost: "Daily pass over assign_submission (timemodified is not indexed in Moodle core).",
}

// assignActive counts the assignments open at the end of the window.
var assignActive = &measures.Query{
	Name: "assign.active",
	SQL: `SELECT COUNT(*) AS activeassigns
  FROM {assign} a
  JOIN {modules} m ON m.name = 'assign'
  JOIN {course_modules} cm ON cm.module = m.id AND cm.instance = a.id
  JOIN {course} c ON c.id = a.course
  JOIN {course_categories} cat ON cat.id = c.category
 WHERE cm.visible = 1 AND cm.deletioninprogress = 0
   AND c.visible = 1 AND cat.visible = 1
   AND c.startdate < ? AND (c.enddate = 0 OR c.enddate >= ?)
   AND a.allowsubmissionsfromdate < ? AND (a.duedate = 0 OR a.duedate >= ?)`,
	Args: func(p measures.Params) []any { return []any{p.To(), p.To(), p.To(), p.To()} },
	Cost: "One pass over the assign table with index lookups in course_modules, course and course_categories.",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.assign.dailysubmissions",
			Name:        "Assignment submissions (day)",
			Description: "Assignment submissions (latest attempt, status submitted) whose submission time lies within the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "submissions",
			Query: assignSubmissions, Column: "submissions",
			Aggregate: measures.Sum, Domain: "assign", Graph: "Assignment submissions (day)", Dashboard: true, Legacy: true,
			Fixes: "The plugin used the row's creation time instead of the submission time.",
		},
		measures.Measure{
			Key:         "moodle.assign.dailylatesubmissions",
			Name:        "Late assignment submissions (day)",
			Description: "Assignment submissions of the day (latest attempt, status submitted) made after the assignment's due date, for assignments that have one.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "submissions",
			Query: assignSubmissions, Column: "late",
			Aggregate: measures.Sum, Domain: "assign", Graph: "Assignment submissions (day)", Legacy: true,
			Fixes: "The plugin compared the row's creation time, not the submission time, with the due date.",
		},
		measures.Measure{
			Key:         "moodle.assign.dailyintimesubmissions",
			Name:        "On-time assignment submissions (day)",
			Description: "Assignment submissions of the day (latest attempt, status submitted) made at or before the assignment's due date, or to an assignment without a due date.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "submissions",
			Query: assignSubmissions, Column: "intime",
			Aggregate: measures.Sum, Domain: "assign", Graph: "Assignment submissions (day)", Legacy: true,
			Fixes: "The plugin compared the row's creation time, not the submission time, with the due date.",
		},
		measures.Measure{
			Key:  "moodle.assign.activeassigns",
			Name: "Open assignments",
			Description: "Assignments open at the end of the day: course module visible and not being deleted, course visible, started and not ended, " +
				"its category visible, submissions allowed from before the end of the day and a due date that is unset or not yet passed.",
			Family: measures.Daily, Type: measures.Unsigned, Units: "assignments",
			Query: assignActive, Column: "activeassigns",
			Aggregate: measures.Sum, Domain: "assign", Graph: "Open assignments", Legacy: true,
			Fixes: "The plugin judged openness at the time the task ran, with a 24-hour grace, instead of at the end of the period.",
		},
	)
}
