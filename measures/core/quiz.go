package core

import (
	"strconv"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Quiz measures: attempts open now, attempts finished over the family's window, their
// duration, and the share of them that reach the quiz's pass grade.
//
// Teacher previews (quiz_attempts.preview = 1) are left out everywhere: they are not student
// activity. An attempt belongs to a window by its finish time (timefinish), so an attempt is
// counted once, in the period it was submitted.

// quizDurationCap is the longest attempt, in seconds, that enters the average durations.
// The plugin dropped every attempt of 3000 s or more, which removed every real exam longer
// than 50 minutes. An attempt that stayed open for more than a day was left open and closed
// later (by the student or by the overdue handling), so its duration is not working time:
// one day keeps every timed exam and drops those.
const quizDurationCap = 86400

var quizCap = strconv.Itoa(quizDurationCap)

// quizInProgress counts the attempts open now, whenever they started.
var quizInProgress = &measures.Query{
	Name: "quiz.inprogress",
	SQL: `SELECT COUNT(*) AS inprogress
  FROM {quiz_attempts}
 WHERE state IN ('inprogress', 'overdue') AND preview = 0 AND timestart < ?`,
	Args: func(p measures.Params) []any { return []any{p.To()} },
	Cost: "Open attempts only (index on quiz_attempts.state, timecheckstate).",
}

// quizFinishedSQL reads the finished attempts of the window. The question count of an attempt
// comes from its layout, a comma-separated list of slot numbers where 0 is a page break: the
// entries (commas + 1) minus the page breaks (a leading "0" and each ",0"; slot numbers have no
// leading zero). Only portable string functions (LENGTH, REPLACE, LIKE) are used.
var quizFinishedSQL = `SELECT COUNT(*) AS attempts,
       COUNT(DISTINCT t.course) AS courses,
       COUNT(DISTINCT t.userid) AS users,
       AVG(CASE WHEN t.duration >= 0 AND t.duration <= ` + quizCap + ` THEN t.duration END) AS avgduration,
       AVG(CASE WHEN t.duration >= 0 AND t.duration <= ` + quizCap + ` AND t.questions > 0
                THEN t.duration * 1.0 / t.questions END) AS avgquestion
  FROM (SELECT q.course AS course, qa.userid AS userid, qa.timefinish - qa.timestart AS duration,
               CASE WHEN qa.layout = '' THEN 0
                    ELSE LENGTH(qa.layout) - LENGTH(REPLACE(qa.layout, ',', '')) + 1 END
             - CASE WHEN qa.layout LIKE '0%' THEN 1 ELSE 0 END
             - (LENGTH(qa.layout) - LENGTH(REPLACE(qa.layout, ',0', ''))) / 2 AS questions
          FROM {quiz_attempts} qa
          JOIN {quiz} q ON q.id = qa.quiz
         WHERE qa.state = 'finished' AND qa.preview = 0
           AND qa.timefinish >= ? AND qa.timefinish < ?) t`

// quizFinished returns the finished-attempts query of one family.
func quizFinished(name string) *measures.Query {
	return &measures.Query{
		Name: name,
		SQL:  quizFinishedSQL,
		Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
		Cost: "Finished attempts (index on quiz_attempts.state), filtered on timefinish, which has no index of its own; once per day or week.",
	}
}

var (
	quizDaily  = quizFinished("quiz.daily")
	quizWeekly = quizFinished("quiz.weekly")
)

// quizSuccess is the percentage of the graded, finished attempts of the window whose grade
// (attempt sumgrades / quiz sumgrades * quiz grade) reaches the pass grade of the quiz's grade
// item. The comparison is made without division (sumgrades * grade >= gradepass * quiz
// sumgrades), so equality is exact on decimal columns. A quiz without a pass grade (gradepass
// 0 or no grade item) passes at half of its maximum grade.
var quizSuccess = &measures.Query{
	Name: "quiz.success",
	SQL: `SELECT CASE WHEN COUNT(*) = 0 THEN 0
            ELSE 100.0 * SUM(CASE
                WHEN gi.gradepass > 0 AND qa.sumgrades * q.grade >= gi.gradepass * q.sumgrades THEN 1
                WHEN (gi.gradepass IS NULL OR gi.gradepass <= 0) AND qa.sumgrades * 2 >= q.sumgrades THEN 1
                ELSE 0 END) / COUNT(*) END AS successratio
  FROM {quiz_attempts} qa
  JOIN {quiz} q ON q.id = qa.quiz
  LEFT JOIN {grade_items} gi ON gi.itemtype = 'mod' AND gi.itemmodule = 'quiz'
       AND gi.iteminstance = q.id AND gi.itemnumber = 0
 WHERE qa.state = 'finished' AND qa.preview = 0 AND qa.sumgrades IS NOT NULL AND q.sumgrades > 0
   AND qa.timefinish >= ? AND qa.timefinish < ?`,
	Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Cost: "Finished attempts (index on quiz_attempts.state) of the month, each joined to its quiz and grade item by index; once per month.",
}

// quizInstances counts the quiz activities that are not being deleted.
var quizInstances = &measures.Query{
	Name: "quiz.instances",
	SQL: `SELECT COUNT(*) AS quizzes
  FROM {course_modules} cm
  JOIN {modules} m ON m.id = cm.module
 WHERE m.name = 'quiz' AND cm.deletioninprogress = 0`,
	Cost: "Course modules of the quiz module (index on course_modules.module); once per month.",
}

func init() {
	const previews = " Teacher previews are left out."
	measures.MustRegister(
		measures.Measure{
			Key:  "moodle.quiz.attemptsinprogress",
			Name: "Quiz attempts in progress",
			Description: "Quiz attempts open at the end of the instant window (state inprogress or overdue), whenever they started." +
				previews + " A high value means an exam is running: not the time for maintenance.",
			Family: measures.Instant, Type: measures.Unsigned, Units: "attempts",
			Query: quizInProgress, Column: "inprogress",
			Aggregate: measures.Sum, Domain: "quiz", Graph: "Quiz attempts in progress", Dashboard: true, Legacy: true,
			Fixes: "The plugin only counted inprogress attempts started in the last 24 hours, missing older open attempts and overdue ones, and never sent zeros.",
		},
		measures.Measure{
			Key:         "moodle.quiz.dailyattempts",
			Name:        "Quiz attempts finished (day)",
			Description: "Quiz attempts submitted (state finished) during the previous calendar day, by their finish time." + previews,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "attempts",
			Query: quizDaily, Column: "attempts",
			Aggregate: measures.Sum, Domain: "quiz", Graph: "Quiz attempts (per day)", Dashboard: true, Legacy: true,
			Fixes: "The plugin selected finished attempts by their start time over a rolling 24 hours (and 401 divided the count by 60); this counts attempts finished in the calendar day.",
		},
		measures.Measure{
			Key:         "moodle.quiz.dailyactivecourseswithattempts",
			Name:        "Courses with quiz attempts (day)",
			Description: "Distinct courses of the quizzes whose attempts were submitted during the previous calendar day." + previews,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: quizDaily, Column: "courses",
			Aggregate: measures.Sum, Domain: "quiz", Legacy: true,
			Fixes: "The plugin selected attempts by their start time over a rolling 24 hours; this uses the finish time and the calendar day.",
		},
		measures.Measure{
			Key:         "moodle.quiz.dailydistinctattemptingusers",
			Name:        "Users who finished a quiz attempt (day)",
			Description: "Distinct users who submitted a quiz attempt during the previous calendar day." + previews,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: quizDaily, Column: "users",
			Aggregate: measures.Sum, Domain: "quiz", Legacy: true,
			Fixes: "The plugin selected attempts by their start time over a rolling 24 hours; this uses the finish time and the calendar day.",
		},
		measures.Measure{
			Key:         "moodle.quiz.weeklyattempts",
			Name:        "Quiz attempts finished (week)",
			Description: "Quiz attempts submitted (state finished) during the previous ISO week (Monday to Monday), by their finish time." + previews,
			Family:      measures.Weekly, Type: measures.Unsigned, Units: "attempts",
			Query: quizWeekly, Column: "attempts",
			Aggregate: measures.Sum, Domain: "quiz", Graph: "Quiz attempts (per week)", Legacy: true,
			Fixes: "The plugin divided the count by 60 and selected attempts by start time over a rolling 7 days; this is the plain count over the calendar week.",
		},
		measures.Measure{
			Key:         "moodle.quiz.weeklyactivecourseswithattempts",
			Name:        "Courses with quiz attempts (week)",
			Description: "Distinct courses of the quizzes whose attempts were submitted during the previous ISO week." + previews,
			Family:      measures.Weekly, Type: measures.Unsigned, Units: "courses",
			Query: quizWeekly, Column: "courses",
			Aggregate: measures.Sum, Domain: "quiz", Legacy: true,
			Fixes: "The plugin selected attempts by their start time over a rolling 7 days; this uses the finish time and the calendar week.",
		},
		measures.Measure{
			Key:         "moodle.quiz.weeklydistinctattemptingusers",
			Name:        "Users who finished a quiz attempt (week)",
			Description: "Distinct users who submitted a quiz attempt during the previous ISO week." + previews,
			Family:      measures.Weekly, Type: measures.Unsigned, Units: "users",
			Query: quizWeekly, Column: "users",
			Aggregate: measures.Sum, Domain: "quiz", Legacy: true,
			Fixes: "The plugin selected attempts by their start time over a rolling 7 days; this uses the finish time and the calendar week.",
		},
		measures.Measure{
			Key:  "moodle.quiz.weeklyaverageattemptduration",
			Name: "Average quiz attempt duration (week)",
			Description: "Average of finish time minus start time, in seconds, of the quiz attempts submitted during the previous ISO week, " +
				"leaving out attempts that lasted more than one day (left open and closed later); 0 when there is none." + previews,
			Family: measures.Weekly, Type: measures.Float, Units: "s",
			Query: quizWeekly, Column: "avgduration",
			Aggregate: measures.Avg, Domain: "quiz", Graph: "Quiz attempt durations (per week)", Legacy: true,
			Fixes: "The plugin dropped every attempt of 3000 s or more, so exams longer than 50 minutes were ignored; the cap is now one day.",
		},
		measures.Measure{
			Key:  "moodle.quiz.weeklyaveragequestionduration",
			Name: "Average time per quiz question (week)",
			Description: "Average, over the quiz attempts of moodle.quiz.weeklyaverageattemptduration that have at least one question, " +
				"of the attempt's duration divided by its number of questions (the slots of its layout, page breaks excluded), in seconds." + previews,
			Family: measures.Weekly, Type: measures.Float, Units: "s",
			Query: quizWeekly, Column: "avgquestion",
			Aggregate: measures.Avg, Domain: "quiz", Graph: "Quiz attempt durations (per week)", Legacy: true,
			Fixes: "The plugin estimated the question count one too low with MySQL-only regular expressions; this counts the layout's slots exactly on every engine.",
		},
		measures.Measure{
			Key:  "moodle.quiz.monthlysuccessratio",
			Name: "Quiz success ratio (month)",
			Description: "Percentage of the graded quiz attempts submitted during the previous calendar month whose grade " +
				"(attempt marks / quiz marks x quiz grade) reaches the pass grade of the quiz's grade item; a quiz without a pass grade passes at half of its maximum grade. " +
				"Attempts not graded yet and quizzes without marks are left out; 0 when no attempt counts." + previews,
			Family: measures.Monthly, Type: measures.Float, Units: "%",
			Query: quizSuccess, Column: "successratio",
			Aggregate: measures.Avg, Domain: "quiz", Legacy: true,
			Fixes: "The plugin counted question-step states (graderight, gradewrong) that attempts never have and had an operator-precedence bug, so it was always 0.",
		},
		measures.Measure{
			Key:         "moodle.quiz.monthlyquizinstancesall",
			Name:        "Quiz activities",
			Description: "Quiz activities (course modules of the quiz module) that are not being deleted, hidden ones included, at the time of the monthly run.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "quizzes",
			Query: quizInstances, Column: "quizzes",
			Aggregate: measures.Sum, Domain: "quiz", Legacy: true,
		},
	)
}
