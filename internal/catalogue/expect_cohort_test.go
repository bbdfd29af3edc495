package catalogue_test

import "github.com/moodle-zabbix/moodle-zabbix/internal/fixture"

// Independent computations of the cohort measures (measures/core/cohort.go).

// countCohorts counts the cohorts that satisfy keep.
func countCohorts(x *X, keep func(c fixture.Cohort) bool) int {
	n := 0
	for _, c := range x.M.Cohorts {
		if keep(c) {
			n++
		}
	}
	return n
}

func init() {
	expect("moodle.cohort.cohorts", func(x *X) any {
		return len(x.M.Cohorts)
	})
	expect("moodle.cohort.empty", func(x *X) any {
		members := map[int64]bool{}
		for _, m := range x.M.CohortMembers {
			members[m.CohortID] = true
		}
		return countCohorts(x, func(c fixture.Cohort) bool { return !members[c.ID] })
	})
	expect("moodle.cohort.unenroled", func(x *X) any {
		used := map[int64]bool{}
		for _, e := range x.M.Enrols {
			if e.Enrol == "cohort" {
				used[e.CustomInt1] = true
			}
		}
		return countCohorts(x, func(c fixture.Cohort) bool { return !used[c.ID] })
	})
	expect("moodle.cohort.system", func(x *X) any {
		level := map[int64]int{}
		for _, c := range x.M.Contexts {
			level[c.ID] = c.ContextLevel
		}
		return countCohorts(x, func(c fixture.Cohort) bool { return level[c.ContextID] == fixture.ContextSystem })
	})
}
