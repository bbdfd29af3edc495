package catalogue_test

import (
	"math"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// tasksEndedInHour returns the task runs that ended in the window and started at most a day
// before it.
func tasksEndedInHour(x *X) []fixture.TaskLog {
	var out []fixture.TaskLog
	from, to := float64(x.From), float64(x.To)
	for _, l := range x.M.TaskLogs {
		if l.TimeStart >= from-86400 && l.TimeStart < to && l.TimeEnd >= from && l.TimeEnd < to {
			out = append(out, l)
		}
	}
	return out
}

func init() {
	expect("moodle.tasks.adhocoldestage", func(x *X) any {
		var age int64
		for _, t := range x.M.TasksAdhoc {
			if t.NextRunTime <= x.To && t.TimeStarted == 0 {
				age = max(age, x.To-t.NextRunTime)
			}
		}
		return age
	})

	expect("moodle.tasks.cronlateness", func(x *X) any {
		to := float64(x.To)
		newestEnd, found := 0.0, false
		for _, l := range x.M.TaskLogs {
			if l.TimeStart >= to-3600 && l.TimeStart < to && l.TimeEnd < to && (!found || l.TimeEnd > newestEnd) {
				newestEnd, found = l.TimeEnd, true
			}
		}
		if !found {
			for _, l := range x.M.TaskLogs {
				if l.TimeStart < to && (!found || l.TimeStart > newestEnd) {
					newestEnd, found = l.TimeStart, true
				}
			}
		}
		if !found {
			return 0
		}
		return to - newestEnd
	})

	expect("moodle.tasks.hourlyruns", func(x *X) any { return len(tasksEndedInHour(x)) })

	expect("moodle.tasks.hourlyfailedruns", func(x *X) any {
		n := 0
		for _, l := range tasksEndedInHour(x) {
			if l.Result == fixture.TaskResultFailed {
				n++
			}
		}
		return n
	})

	expect("moodle.tasks.hourlyslowestrun", func(x *X) any {
		slowest := 0.0
		for _, l := range tasksEndedInHour(x) {
			slowest = math.Max(slowest, l.TimeEnd-l.TimeStart)
		}
		return slowest
	})
}
