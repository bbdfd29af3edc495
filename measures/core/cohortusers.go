package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Site-wide cohort indicators: who is in a cohort, which cohorts enrolment uses, and how many
// cohort members were active. Per-cohort values come from the cohort discovery rule (package
// discovery).

// cohortUsers fills the three indicators with one scalar subquery each.
var cohortUsers = &measures.Query{
	Name: "cohort.users",
	SQL: `SELECT (SELECT COUNT(DISTINCT m.userid)
          FROM {cohort_members} m
          JOIN {user} u ON u.id = m.userid
         WHERE u.deleted = 0) AS members,
       (SELECT COUNT(DISTINCT e.customint1)
          FROM {enrol} e
          JOIN {cohort} co ON co.id = e.customint1
         WHERE e.enrol = 'cohort' AND e.status = 0) AS usedbyenrolment,
       (SELECT COUNT(DISTINCT m.userid)
          FROM {cohort_members} m
          JOIN {user} u ON u.id = m.userid
          JOIN (SELECT DISTINCT userid
                  FROM {logstore_standard_log}
                 WHERE timecreated >= ? AND timecreated < ? AND realuserid IS NULL) a ON a.userid = m.userid
         WHERE u.deleted = 0) AS activemembers`,
	Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Cost: "The cohort_members table (index on userid), the cohort-sync enrolment instances (index on enrol) and one day of the log through the index on timecreated.",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.cohort.users",
			Name:        "Users in a cohort",
			Description: "Distinct non-deleted users who are members of at least one cohort, visible or not.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: cohortUsers, Column: "members",
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohort members",
		},
		measures.Measure{
			Key:         "moodle.cohort.usedbyenrolment",
			Name:        "Cohorts used by enrolment",
			Description: "Cohorts that at least one enabled cohort-sync enrolment instance (enrol = 'cohort', status 0) enrols from.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "cohorts",
			Query: cohortUsers, Column: "usedbyenrolment",
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohorts",
		},
		measures.Measure{
			Key:         "moodle.cohort.activeusers",
			Name:        "Cohort members active (day)",
			Description: "Distinct non-deleted members of at least one cohort with a standard log event of their own during the day (not done by someone logged in as them).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: cohortUsers, Column: "activemembers",
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohort members",
		},
	)
}
