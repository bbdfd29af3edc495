package catalogue_test

import (
	"math"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// quizOf returns the quiz an attempt belongs to.
func quizOf(x *X, a fixture.QuizAttempt) (fixture.Quiz, bool) {
	for _, q := range x.M.Quizzes {
		if q.ID == a.Quiz {
			return q, true
		}
	}
	return fixture.Quiz{}, false
}

// quizFinishedIn returns the finished, non-preview attempts of existing quizzes whose finish
// time lies in the window.
func quizFinishedIn(x *X) []fixture.QuizAttempt {
	var out []fixture.QuizAttempt
	for _, a := range x.M.QuizAttempts {
		if a.State != fixture.QuizStateFinished || a.Preview != 0 || !x.in(a.TimeFinish) {
			continue
		}
		if _, ok := quizOf(x, a); ok {
			out = append(out, a)
		}
	}
	return out
}

// quizCourses counts the distinct courses of the attempts' quizzes.
func quizCourses(x *X, as []fixture.QuizAttempt) int {
	seen := map[int64]bool{}
	for _, a := range as {
		q, _ := quizOf(x, a)
		seen[q.Course] = true
	}
	return len(seen)
}

// quizUsers counts the distinct users of the attempts.
func quizUsers(as []fixture.QuizAttempt) int {
	seen := map[int64]bool{}
	for _, a := range as {
		seen[a.UserID] = true
	}
	return len(seen)
}

// quizQuestions counts the question slots of a layout: every non-empty entry but the page
// breaks (0).
func quizQuestions(layout string) int {
	n := 0
	for _, s := range strings.Split(layout, ",") {
		if s != "" && s != "0" {
			n++
		}
	}
	return n
}

// quizTimed returns the attempts whose duration lies in [0, one day].
func quizTimed(as []fixture.QuizAttempt) []fixture.QuizAttempt {
	var out []fixture.QuizAttempt
	for _, a := range as {
		if d := a.TimeFinish - a.TimeStart; d >= 0 && d <= 86400 {
			out = append(out, a)
		}
	}
	return out
}

func init() {
	expect("moodle.quiz.attemptsinprogress", func(x *X) any {
		n := 0
		for _, a := range x.M.QuizAttempts {
			open := a.State == fixture.QuizStateInProgress || a.State == fixture.QuizStateOverdue
			if open && a.Preview == 0 && a.TimeStart < x.To {
				n++
			}
		}
		return n
	})

	for _, period := range []string{"daily", "weekly"} {
		expect("moodle.quiz."+period+"attempts", func(x *X) any { return len(quizFinishedIn(x)) })
		expect("moodle.quiz."+period+"activecourseswithattempts", func(x *X) any { return quizCourses(x, quizFinishedIn(x)) })
		expect("moodle.quiz."+period+"distinctattemptingusers", func(x *X) any { return quizUsers(quizFinishedIn(x)) })
	}

	expect("moodle.quiz.weeklyaverageattemptduration", func(x *X) any {
		as := quizTimed(quizFinishedIn(x))
		if len(as) == 0 {
			return 0.0
		}
		sum := 0.0
		for _, a := range as {
			sum += float64(a.TimeFinish - a.TimeStart)
		}
		return sum / float64(len(as))
	})

	expect("moodle.quiz.weeklyaveragequestionduration", func(x *X) any {
		sum, n := 0.0, 0
		for _, a := range quizTimed(quizFinishedIn(x)) {
			if q := quizQuestions(a.Layout); q > 0 {
				sum += float64(a.TimeFinish-a.TimeStart) / float64(q)
				n++
			}
		}
		if n == 0 {
			return 0.0
		}
		return sum / float64(n)
	})

	expect("moodle.quiz.monthlysuccessratio", func(x *X) any {
		graded, passed := 0, 0
		for _, a := range quizFinishedIn(x) {
			q, _ := quizOf(x, a)
			if a.SumGrades == nil || q.SumGrades <= 0 {
				continue
			}
			graded++
			grade := *a.SumGrades / q.SumGrades * q.Grade
			pass := q.Grade / 2
			for _, gi := range x.M.GradeItems {
				if gi.ItemType == "mod" && gi.ItemModule == "quiz" && gi.ItemInstance == q.ID && gi.ItemNumber == 0 && gi.GradePass > 0 {
					pass = gi.GradePass
				}
			}
			// A small tolerance absorbs the float rounding of the division; the database
			// compares exact decimals.
			if grade >= pass-1e-9*math.Max(1, pass) {
				passed++
			}
		}
		if graded == 0 {
			return 0.0
		}
		return 100 * float64(passed) / float64(graded)
	})

	expect("moodle.quiz.monthlyquizinstancesall", func(x *X) any {
		mod, ok := x.M.ModuleByName("quiz")
		if !ok {
			return 0
		}
		n := 0
		for _, cm := range x.M.CourseModules {
			if cm.Module == mod.ID && cm.DeletionInProgress == 0 {
				n++
			}
		}
		return n
	})
}
