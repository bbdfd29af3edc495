package catalogue_test

import (
	"fmt"
	"slices"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures/core"
)

// Independent computations of the event measures (measures/core/events.go), from the fixture's
// log rows and the profile table.

// windowLogs calls f for every log row of the window.
func windowLogs(x *X, f func(l fixture.Log)) {
	for _, l := range x.M.Logs {
		if x.in(l.TimeCreated) {
			f(l)
		}
	}
}

func init() {
	for _, fam := range []string{"hourly", "daily", "weekly", "monthly"} {
		for _, p := range core.LearningProfiles {
			events := p.Events
			expect(fmt.Sprintf("moodle.events.profile[%s,%s]", fam, p.Name), func(x *X) any {
				n := 0
				windowLogs(x, func(l fixture.Log) {
					if slices.Contains(events, l.EventName) {
						n++
					}
				})
				return n
			})
			expect(fmt.Sprintf("moodle.events.actors[%s,%s]", fam, p.Name), func(x *X) any {
				users := map[int64]bool{}
				windowLogs(x, func(l fixture.Log) {
					if slices.Contains(events, l.EventName) && l.UserID != 0 {
						users[l.UserID] = true
					}
				})
				return len(users)
			})
		}
		expect(fmt.Sprintf("moodle.events.profile[%s,other]", fam), func(x *X) any {
			n := 0
			windowLogs(x, func(l fixture.Log) {
				for _, p := range core.LearningProfiles {
					if slices.Contains(p.Events, l.EventName) {
						return
					}
				}
				n++
			})
			return n
		})
		for _, lv := range []struct {
			name  string
			level int
		}{{"teaching", 1}, {"participating", 2}, {"other", 0}} {
			expect(fmt.Sprintf("moodle.events.edulevel[%s,%s]", fam, lv.name), func(x *X) any {
				n := 0
				windowLogs(x, func(l fixture.Log) {
					if l.EduLevel == lv.level {
						n++
					}
				})
				return n
			})
		}
		for _, c := range []struct{ name, letter string }{{"create", "c"}, {"read", "r"}, {"update", "u"}, {"delete", "d"}} {
			expect(fmt.Sprintf("moodle.events.crud[%s,%s]", fam, c.name), func(x *X) any {
				n := 0
				windowLogs(x, func(l fixture.Log) {
					if l.CRUD == c.letter {
						n++
					}
				})
				return n
			})
		}
		expect(fmt.Sprintf("moodle.events.all[%s]", fam), func(x *X) any {
			n := 0
			windowLogs(x, func(fixture.Log) { n++ })
			return n
		})
	}
}
