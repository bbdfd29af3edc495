package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Site-wide cohort indicators: who is in a cohort, which cohorts enrolment uses, and how many
// cohort members were active. Per-cohort values come from the cohort discovery rule (package
// discovery).

// cohortUsers fills the three indicators with one scalar subquery each. A user is counted
// once whatever the number of cohorts they belong to: the members are found with EXISTS on the
// index on cohort_members.userid, and the active members are looked for among the day's users
// only, so no subquery groups the whole membership table.
var cohortUsers = &measures.Query{
	Name: "cohort.users",
	SQL: `SELECT (SELECT COUNT(*)
          FROM {user} u
         WHERE u.deleted = 0
           AND EXISTS (SELECT 1 FROM {cohort_members} m WHERE m.userid = u.id)) AS members,
       (SELECT COUNT(DISTINCT e.customint1)
          FROM {enrol} e
          JOIN {cohort} co ON co.id = e.customint1
         WHERE e.enrol = 'cohort' AND e.status = 0) AS usedbyenrolment,
       (SELECT COUNT(*)
          FROM (SELECT DISTINCT userid
                  FROM {logstore_standard_log}
                 WHERE timecreated >= ? AND timecreated < ? AND realuserid IS NULL) a
          JOIN {user} u ON u.id = a.userid AND u.deleted = 0
         WHERE EXISTS (SELECT 1 FROM {cohort_members} m WHERE m.userid = a.userid)) AS activemembers`,
	Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Cost: "The user table with a semi-join on cohort_members (index on userid), the cohort-sync enrolment instances (index on enrol), and the distinct users of one day of the log (index on timecreated) looked up in cohort_members.",
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
