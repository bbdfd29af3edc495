package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// authWeekly counts the usable accounts of the three authentication plugins report_zabbix
// always sent. Every other plugin is covered by the moodle.discovery.auth rule (package
// discovery), which replaces report_zabbix's dynamic moodle.auth.weekly<auth>users keys.
var authWeekly = &measures.Query{
	Name: "auth.weekly",
	SQL: `SELECT SUM(CASE WHEN auth = 'manual' THEN 1 ELSE 0 END) AS manualusers,
       SUM(CASE WHEN auth = 'ldap' THEN 1 ELSE 0 END) AS ldapusers,
       SUM(CASE WHEN auth = 'cas' THEN 1 ELSE 0 END) AS casusers
  FROM {user}
 WHERE deleted = 0 AND suspended = 0 AND auth IN ('manual', 'ldap', 'cas')`,
	Cost: "A range of the index on user.auth, once a week.",
}

// authNote says what the weekly auth counts are, for descriptions.
const authNote = " at collection time (a state, not weekly activity: the \"weekly\" in the key only says when it is sent), on any MNet host."

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.auth.weeklymanualusers",
			Name:        "Users with manual accounts",
			Description: "Non-deleted, non-suspended users whose authentication plugin is manual (the guest account and administrators included)" + authNote,
			Family:      measures.Weekly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       authWeekly,
			Column:      "manualusers",
			Aggregate:   measures.Sum,
			Domain:      "auth",
			Legacy:      true,
		},
		measures.Measure{
			Key:         "moodle.auth.weeklyldapusers",
			Name:        "Users with LDAP accounts",
			Description: "Non-deleted, non-suspended users whose authentication plugin is ldap" + authNote,
			Family:      measures.Weekly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       authWeekly,
			Column:      "ldapusers",
			Aggregate:   measures.Sum,
			Domain:      "auth",
			Legacy:      true,
		},
		measures.Measure{
			Key:         "moodle.auth.weeklycasusers",
			Name:        "Users with CAS accounts",
			Description: "Non-deleted, non-suspended users whose authentication plugin is exactly cas (other cas-like plugins have their own discovered item, moodle.auth.users[<plugin>])" + authNote,
			Family:      measures.Weekly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       authWeekly,
			Column:      "casusers",
			Aggregate:   measures.Sum,
			Domain:      "auth",
			Legacy:      true,
			Fixes:       "The key only ever counts auth = 'cas'; report_zabbix also folded other enabled cas* plugin names into this key's name without counting their users.",
		},
	)
}
