package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Cohort measures (site-wide and category groups of users).

// cohortCounts fills every cohort count in one pass over {cohort}. The system context is
// found by its level (10), not by assuming its id is 1.
var cohortCounts = &measures.Query{
	Name: "cohort.counts",
	SQL: `SELECT COUNT(*) AS allcohorts,
       SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM {cohort_members} m WHERE m.cohortid = co.id)
                THEN 1 ELSE 0 END) AS emptycohorts,
       SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM {enrol} e WHERE e.enrol = 'cohort' AND e.customint1 = co.id)
                THEN 1 ELSE 0 END) AS unenroled,
       SUM(CASE WHEN x.contextlevel = 10 THEN 1 ELSE 0 END) AS systemcohorts
  FROM {cohort} co
  LEFT JOIN {context} x ON x.id = co.contextid`,
	Cost: "One pass over the small cohort table, with index lookups in cohort_members (cohortid) and enrol (enrol) per cohort.",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.cohort.cohorts",
			Name:        "Cohorts",
			Description: "Cohorts defined on the site, in any context.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "cohorts",
			Query: cohortCounts, Column: "allcohorts",
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohorts", Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.cohort.empty",
			Name:        "Cohorts without members",
			Description: "Cohorts that have no member.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "cohorts",
			Query: cohortCounts, Column: "emptycohorts",
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohorts", Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.cohort.unenroled",
			Name:        "Cohorts not used for enrolment",
			Description: "Cohorts that no cohort-sync enrolment instance (enrol = 'cohort', enabled or not) refers to.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "cohorts",
			Query: cohortCounts, Column: "unenroled",
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohorts", Legacy: true,
		},
		measures.Measure{
			Key:         "moodle.cohort.system",
			Name:        "System cohorts",
			Description: "Cohorts defined in the system context (context level 10), as opposed to category cohorts.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "cohorts",
			Query: cohortCounts, Column: "systemcohorts",
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohorts", Legacy: true,
			Fixes: "The plugin assumed the system context has id 1 instead of looking it up by its level.",
		},
	)
}
