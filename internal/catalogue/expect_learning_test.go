package catalogue_test

import (
	"sort"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// Independent computations of the component discovery (measures/core/discovery_components.go), the cohort
// discovery (measures/core/discovery_cohorts.go) and the site-wide cohort indicators
// (measures/core/cohortusers.go).

// componentStats returns the window's events and distinct users (user id not 0) per component.
func componentStats(x *X) (events, users map[string]int) {
	events, users = map[string]int{}, map[string]int{}
	seen := map[string]map[int64]bool{}
	windowLogs(x, func(l fixture.Log) {
		events[l.Component]++
		if seen[l.Component] == nil {
			seen[l.Component] = map[int64]bool{}
		}
		if l.UserID != 0 && !seen[l.Component][l.UserID] {
			seen[l.Component][l.UserID] = true
			users[l.Component]++
		}
	})
	return events, users
}

// componentSegs governs the components: population their users, rank their events.
func componentSegs(x *X) governedSegs {
	events, users := componentStats(x)
	var names []string
	for c := range events {
		names = append(names, c)
	}
	sort.Strings(names)
	var segs []seg
	for _, c := range names {
		segs = append(segs, seg{id: c, macros: map[string]string{"{#COMPONENT}": c}, pop: float64(users[c]), rank: float64(events[c])})
	}
	return governSegs("moodle.discovery.components", segs, []string{"{#COMPONENT}"}, false)
}

// aliveUsers returns the ids of the non-deleted users.
func aliveUsers(x *X) map[int64]bool {
	out := map[int64]bool{}
	for _, u := range x.M.Users {
		if u.Deleted == 0 {
			out[u.ID] = true
		}
	}
	return out
}

// cohortMembers returns each cohort's non-deleted members.
func cohortMembers(x *X) map[int64]map[int64]bool {
	alive := aliveUsers(x)
	out := map[int64]map[int64]bool{}
	for _, m := range x.M.CohortMembers {
		if !alive[m.UserID] {
			continue
		}
		if out[m.CohortID] == nil {
			out[m.CohortID] = map[int64]bool{}
		}
		out[m.CohortID][m.UserID] = true
	}
	return out
}

// ownActive returns the users with a log event of their own (no realuserid) in the window.
func ownActive(x *X) map[int64]bool {
	out := map[int64]bool{}
	windowLogs(x, func(l fixture.Log) {
		if l.RealUserID == 0 {
			out[l.UserID] = true
		}
	})
	return out
}

// cohortSegs governs the visible cohorts: population their non-deleted members.
func cohortSegs(x *X) governedSegs {
	members := cohortMembers(x)
	var segs []seg
	for _, c := range x.M.Cohorts { // id order
		if c.Visible != 1 {
			continue
		}
		n := float64(len(members[c.ID]))
		segs = append(segs, seg{id: itoa(c.ID), macros: map[string]string{"{#COHORTID}": itoa(c.ID), "{#COHORTNAME}": c.Name}, pop: n, rank: n})
	}
	return governSegs("moodle.discovery.cohorts", segs, []string{"{#COHORTID}", "{#COHORTNAME}"}, false)
}

// cohortSyncEnrolled returns, per cohort, the users with an active enrolment at the window end
// through an enabled cohort-sync instance of that cohort.
func cohortSyncEnrolled(x *X) map[int64]map[int64]bool {
	cohortOf := map[int64]int64{}
	for _, e := range x.M.Enrols {
		if e.Enrol == "cohort" && e.Status == 0 {
			cohortOf[e.ID] = e.CustomInt1
		}
	}
	out := map[int64]map[int64]bool{}
	for _, ue := range x.M.UserEnrolments {
		c, ok := cohortOf[ue.EnrolID]
		if !ok || ue.Status != 0 || ue.TimeStart >= x.To || ue.TimeEnd != 0 && ue.TimeEnd <= x.To {
			continue
		}
		if out[c] == nil {
			out[c] = map[int64]bool{}
		}
		out[c][ue.UserID] = true
	}
	return out
}

func init() {
	expect("moodle.discovery.components", func(x *X) any { return componentSegs(x).lld() })
	expect("moodle.component.events[{#COMPONENT}]", func(x *X) any {
		events, _ := componentStats(x)
		return componentSegs(x).per(func(c string) float64 { return float64(events[c]) })
	})
	expect("moodle.component.users[{#COMPONENT}]", func(x *X) any {
		_, users := componentStats(x)
		return componentSegs(x).per(func(c string) float64 { return float64(users[c]) })
	})

	expect("moodle.discovery.cohorts", func(x *X) any { return cohortSegs(x).lld() })
	expect("moodle.cohort.members[{#COHORTID}]", func(x *X) any {
		members := cohortMembers(x)
		return cohortSegs(x).per(func(id string) float64 { return float64(len(members[atoi(id)])) })
	})
	expect("moodle.cohort.activemembers[{#COHORTID}]", func(x *X) any {
		members, active := cohortMembers(x), ownActive(x)
		return cohortSegs(x).per(func(id string) float64 {
			n := 0
			for u := range members[atoi(id)] {
				if active[u] {
					n++
				}
			}
			return float64(n)
		})
	})
	expect("moodle.cohort.enrolledmembers[{#COHORTID}]", func(x *X) any {
		members, enrolled := cohortMembers(x), cohortSyncEnrolled(x)
		return cohortSegs(x).per(func(id string) float64 {
			n := 0
			for u := range members[atoi(id)] {
				if enrolled[atoi(id)][u] {
					n++
				}
			}
			return float64(n)
		})
	})

	expect("moodle.cohort.users", func(x *X) any {
		all := map[int64]bool{}
		for _, ms := range cohortMembers(x) {
			for u := range ms {
				all[u] = true
			}
		}
		return len(all)
	})
	expect("moodle.cohort.usedbyenrolment", func(x *X) any {
		cohorts := map[int64]bool{}
		for _, c := range x.M.Cohorts {
			cohorts[c.ID] = true
		}
		used := map[int64]bool{}
		for _, e := range x.M.Enrols {
			if e.Enrol == "cohort" && e.Status == 0 && cohorts[e.CustomInt1] {
				used[e.CustomInt1] = true
			}
		}
		return len(used)
	})
	expect("moodle.cohort.activeusers", func(x *X) any {
		active := ownActive(x)
		all := map[int64]bool{}
		for _, ms := range cohortMembers(x) {
			for u := range ms {
				if active[u] {
					all[u] = true
				}
			}
		}
		return len(all)
	})
}
