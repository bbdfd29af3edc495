package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Cohorts: the visible cohorts, each with its members, its members active during the day and
// its members enrolled through its cohort-sync enrolment instances.

// cohorts is the discovery rule of the visible cohorts. Its query counts each cohort's
// non-deleted members, which are the cohort's population for the privacy threshold.
var cohorts = &measures.Discovery{
	Key:         "moodle.discovery.cohorts",
	Name:        "Cohorts",
	Description: "Discovers the visible cohorts (cohort.visible = 1) of every context, in id order.",
	Family:      measures.Daily,
	Query: &measures.Query{
		Name: "cohorts.discovery",
		// A user is a member of a cohort once (cohort_members is unique on cohortid, userid),
		// so the members are counted without DISTINCT, from the index on (cohortid, userid)
		// alone. The deleted accounts are left out through deletedUsersSQL, read once from the
		// index on deleted and probed in memory, where a join to the user table, or
		// notDeletedSQL (which MariaDB runs as a dependent subquery at 30 million memberships),
		// looks a user row up for each membership. At 30 million memberships on MariaDB: 214 s
		// joined, 170 s with NOT EXISTS, 7.7 s so; at 311,000, MariaDB 1.0-1.2 s → 0.10-0.15 s
		// and PostgreSQL 0.14-0.35 s → 0.04-0.05 s. Moodle never removes a user row, so the
		// forms agree.
		SQL: `SELECT co.id AS cohortid, co.name AS cohortname, COALESCE(n.members, 0) AS members
  FROM {cohort} co
  LEFT JOIN (SELECT m.cohortid, COUNT(*) AS members
               FROM {cohort_members} m
               LEFT JOIN ` + deletedUsersSQL + ` du ON du.id = m.userid
              WHERE du.id IS NULL
              GROUP BY m.cohortid) n ON n.cohortid = co.id
 WHERE co.visible = 1
 ORDER BY co.id`,
		Cost: "The cohort table, and the members counted per cohort from the index on (cohortid, userid), less the deleted accounts (index on user.deleted).",
	},
	Macros: []measures.LLDMacro{
		{Macro: "{#COHORTID}", Column: "cohortid"},
		{Macro: "{#COHORTNAME}", Column: "cohortname"},
	},
	Population: "members",
}

// cohortsActivity counts, per cohort, the members active during the day and the members with
// an active enrolment through the cohort's own cohort-sync instances.
var cohortsActivity = &measures.Query{
	Name: "cohorts.activity",
	SQL: `SELECT co.id AS cohortid,
       COUNT(DISTINCT a.userid) AS active,
       COUNT(DISTINCT ce.userid) AS enrolled
  FROM {cohort} co
  JOIN {cohort_members} m ON m.cohortid = co.id
  JOIN {user} u ON u.id = m.userid AND u.deleted = 0
  LEFT JOIN (SELECT DISTINCT userid
               FROM {logstore_standard_log}
              WHERE timecreated >= ? AND timecreated < ? AND realuserid IS NULL) a ON a.userid = m.userid
  LEFT JOIN (SELECT e.customint1 AS cohortid, ue.userid
               FROM {enrol} e
               JOIN {user_enrolments} ue ON ue.enrolid = e.id
              WHERE e.enrol = 'cohort' AND e.status = 0 AND ue.status = 0
                AND ue.timestart < ? AND (ue.timeend = 0 OR ue.timeend > ?)) ce
         ON ce.cohortid = co.id AND ce.userid = m.userid
 WHERE co.visible = 1
 GROUP BY co.id`,
	// MariaDB runs the joins above as nested loops from the members, reading every enrolment
	// of each member through the index on userid (58 s at 1.3 million cohort-sync
	// enrolments); counted apart, the active members from the day's users and the enrolled
	// ones with a semi-join that MariaDB materializes once (the deleted accounts left out with
	// notDeletedSQL), it takes 4 s. Reading the user enrolments whole for the semi-join
	// (STRAIGHT_JOIN from user_enrolments to enrol) took 1.9 s against 3.2 s here, but over
	// 457 s against 246 s at 13 million cohort-sync enrolments, and was not kept. PostgreSQL
	// hashes the joins above once and is faster with them (2.4 s against 3.9 s).
	Dialects: map[measures.Dialect]string{measures.MySQL: `SELECT co.id AS cohortid, COALESCE(a.active, 0) AS active, COALESCE(n.enrolled, 0) AS enrolled
  FROM {cohort} co
  LEFT JOIN (SELECT m.cohortid, COUNT(*) AS active
               FROM (SELECT DISTINCT userid
                       FROM {logstore_standard_log}
                      WHERE timecreated >= ? AND timecreated < ? AND realuserid IS NULL) d
               JOIN {user} u ON u.id = d.userid AND u.deleted = 0
               JOIN {cohort_members} m ON m.userid = d.userid
              GROUP BY m.cohortid) a ON a.cohortid = co.id
  LEFT JOIN (SELECT m.cohortid, COUNT(*) AS enrolled
               FROM {cohort_members} m
              WHERE ` + notDeletedSQL("m.userid") + `
                AND EXISTS (SELECT 1
                              FROM {enrol} e
                              JOIN {user_enrolments} ue ON ue.enrolid = e.id
                             WHERE e.enrol = 'cohort' AND e.status = 0 AND e.customint1 = m.cohortid
                               AND ue.userid = m.userid AND ue.status = 0
                               AND ue.timestart < ? AND (ue.timeend = 0 OR ue.timeend > ?))
              GROUP BY m.cohortid) n ON n.cohortid = co.id
 WHERE co.visible = 1`},
	Args: func(p measures.Params) []any { return []any{p.From(), p.To(), p.To(), p.To()} },
	Cost: "One day of the log through the index on timecreated (distinct users), the cohort-sync enrolment instances (index on enrol) and their user enrolments, joined to the cohort members (MariaDB and MySQL: counted apart, the enrolled members with a semi-join).",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.cohort.members[{#COHORTID}]",
			Name:        "Cohort {#COHORTNAME}: members",
			Description: "Non-deleted members of the cohort at collection time.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: cohorts.Query, Column: "members", Discovery: cohorts,
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohort {#COHORTNAME}: members",
		},
		measures.Measure{
			Key:         "moodle.cohort.activemembers[{#COHORTID}]",
			Name:        "Cohort {#COHORTNAME}: active members (day)",
			Description: "Non-deleted members of the cohort with at least one standard log event of their own during the day (not done by someone logged in as them).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: cohortsActivity, Column: "active", Discovery: cohorts,
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohort {#COHORTNAME}: members",
		},
		measures.Measure{
			Key:  "moodle.cohort.enrolledmembers[{#COHORTID}]",
			Name: "Cohort {#COHORTNAME}: members enrolled by cohort sync",
			Description: "Non-deleted members of the cohort with an active enrolment at the end of the day through one of the cohort's enabled cohort-sync enrolment instances (enrol = 'cohort'): " +
				"enrolment enabled, started before the end of the day and not ended.",
			Family: measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: cohortsActivity, Column: "enrolled", Discovery: cohorts,
			Aggregate: measures.Sum, Domain: "cohort", Graph: "Cohort {#COHORTNAME}: members",
		},
	)
}
