package core

import (
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Courses of interest: the courses an administrator lists by id or idnumber in the site's
// configuration, and their item prototypes. The site course is never one of them.

// coursesSelected restricts course c to the courses of interest; its two arguments are the
// id list and the idnumber list (an empty list matches nothing).
const coursesSelected = `(c.id IN (?) OR c.idnumber IN (?)) AND c.id <> 1`

// selectedArgs returns the id and idnumber lists of the courses of interest. Empty idnumbers
// are dropped: most courses have an empty idnumber, and a stray "" must not select them all.
func selectedArgs(p measures.Params) []any {
	idnumbers := make([]string, 0, len(p.Courses.IDNumbers))
	for _, s := range p.Courses.IDNumbers {
		if s != "" {
			idnumbers = append(idnumbers, s)
		}
	}
	return []any{p.Courses.IDs, idnumbers}
}

// coursesOfInterest is the discovery rule of the courses of interest. Its query also reads each
// course's enrolled users (the course's population for the privacy threshold and its rank
// when the cap is reached), completions and modules, for the prototypes that read it.
var coursesOfInterest = &measures.Discovery{
	Key:         "moodle.discovery.courses",
	Name:        "Courses of interest",
	Description: "Discovers the courses of interest listed in the site's configuration, by id or by idnumber, in id order.",
	Family:      measures.Daily,
	Query:       coursesPopulation,
	Macros: []measures.LLDMacro{
		{Macro: "{#COURSEID}", Column: "courseid"},
		{Macro: "{#COURSESHORTNAME}", Column: "shortname"},
	},
	Population: "enrolled",
}

// coursesActivity counts the day's log events of each course of interest.
var coursesActivity = &measures.Query{
	Name: "courses.activity",
	SQL: `SELECT c.id AS courseid, COUNT(*) AS requests,
       COUNT(DISTINCT CASE WHEN ` + OwnEventSQL("l") + ` THEN l.userid END) AS distinctusers
  FROM {course} c
  JOIN {logstore_standard_log} l ON l.courseid = c.id
 WHERE ` + coursesSelected + `
   AND l.timecreated >= ? AND l.timecreated < ?
 GROUP BY c.id`,
	Args: func(p measures.Params) []any { return append(selectedArgs(p), p.From(), p.To()) },
	Cost: "Bounded by timecreated to one day of the log of the selected courses (index on courseid, anonymous, timecreated).",
}

// coursesPopulation reads, for each course of interest, its short name, its enrolled users, its
// completions so far and its modules, with one correlated subquery per column.
var coursesPopulation = &measures.Query{
	Name: "courses.discovery",
	SQL: `SELECT c.id AS courseid, c.shortname AS shortname,
       (SELECT COUNT(DISTINCT ue.userid)
          FROM {enrol} e
          JOIN {user_enrolments} ue ON ue.enrolid = e.id
          JOIN {user} u ON u.id = ue.userid
         WHERE e.courseid = c.id AND e.status = 0 AND ue.status = 0 AND u.deleted = 0
           AND ue.timestart < ? AND (ue.timeend = 0 OR ue.timeend > ?)) AS enrolled,
       (SELECT COUNT(*)
          FROM {course_completions} cc
         WHERE cc.course = c.id AND cc.timecompleted > 0 AND cc.timecompleted < ?) AS completions,
       (SELECT COUNT(*)
          FROM {course_modules} cm
         WHERE cm.course = c.id AND cm.deletioninprogress = 0) AS modules
  FROM {course} c
 WHERE ` + coursesSelected + `
 ORDER BY c.id`,
	Args: func(p measures.Params) []any {
		return append([]any{p.To(), p.To(), p.To()}, selectedArgs(p)...)
	},
	Cost: "Index lookups per selected course in enrol, user_enrolments, course_completions and course_modules (all indexed on the course).",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.course.requests[{#COURSEID}]",
			Name:        "Course {#COURSESHORTNAME}: log events (day)",
			Description: "Log events of the day (any origin) in the course.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "events",
			Query: coursesActivity, Column: "requests", Discovery: coursesOfInterest,
			Aggregate: measures.Sum, Domain: "courses",
		},
		measures.Measure{
			Key:         "moodle.course.distinctusers[{#COURSEID}]",
			Name:        "Course {#COURSESHORTNAME}: distinct users (day)",
			Description: "Distinct users with at least one log event of their own during the day in the course: not the guest account, not a visitor who is not logged in (user 0), not someone logged in as the user, not a command-line script (the rule of the site-wide user counts).",
			Fixes:       "The pro plugin counted every distinct log userid: the guest account, user 0 (visitors not logged in), \"log in as\" sessions and command-line scripts included.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: coursesActivity, Column: "distinctusers", Discovery: coursesOfInterest,
			Aggregate: measures.Sum, Domain: "courses",
		},
		measures.Measure{
			Key:  "moodle.course.enrolled[{#COURSEID}]",
			Name: "Course {#COURSESHORTNAME}: enrolled users",
			Description: "Distinct non-deleted users with an active enrolment in the course at the end of the day: " +
				"enrolment and enrolment instance enabled, started before the end of the day and not ended.",
			Family: measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: coursesPopulation, Column: "enrolled", Discovery: coursesOfInterest,
			Aggregate: measures.Sum, Domain: "courses",
			Fixes: "The pro plugin always sent 0 because of an undefined variable.",
		},
		measures.Measure{
			Key:         "moodle.course.completions[{#COURSEID}]",
			Name:        "Course {#COURSESHORTNAME}: completions",
			Description: "Completions of the course recorded before the end of the day, since the course began (a running total).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "completions",
			Query: coursesPopulation, Column: "completions", Discovery: coursesOfInterest,
			Aggregate: measures.Sum, Domain: "completion",
		},
		measures.Measure{
			Key:         "moodle.course.modules[{#COURSEID}]",
			Name:        "Course {#COURSESHORTNAME}: modules",
			Description: "Course modules of the course, of every type, that are not being deleted.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: coursesPopulation, Column: "modules", Discovery: coursesOfInterest,
			Aggregate: measures.Sum, Domain: "modules",
			Fixes: "The pro plugin also counted modules being deleted.",
		},
	)
}
