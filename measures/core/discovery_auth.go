package core

import (
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// AuthPlugins discovers the authentication plugins in use: one entity per distinct
// user.auth value among non-deleted users, in name order.
var AuthPlugins = &measures.Discovery{
	Key:         "moodle.discovery.auth",
	Name:        "Authentication plugins",
	Description: "Authentication plugins used by at least one non-deleted user (distinct user.auth values), whether or not the plugin is still enabled.",
	Family:      measures.Daily,
	Query: &measures.Query{
		Name: "discovery.auth",
		SQL:  `SELECT auth, COUNT(*) AS accounts FROM {user} WHERE deleted = 0 GROUP BY auth ORDER BY auth`,
		Cost: "The index on user.auth, once a day.",
	},
	Macros: []measures.LLDMacro{{Macro: "{#AUTH}", Column: "auth"}},
	// A plugin's population is its non-deleted accounts; every user has one plugin.
	Population: "accounts",
	Disjoint:   true,
}

// authByPlugin fills every prototype of AuthPlugins in one grouped query: accounts per plugin,
// plus the day's activity and logins aggregated per user first, then per plugin.
var authByPlugin = &measures.Query{
	Name: "auth.byplugin",
	SQL: `SELECT u.auth AS auth,
       SUM(CASE WHEN u.suspended = 0 THEN 1 ELSE 0 END) AS users,
       SUM(CASE WHEN a.events > 0 THEN 1 ELSE 0 END) AS activeusers,
       COALESCE(SUM(a.logins), 0) AS logins
  FROM {user} u
  LEFT JOIN (SELECT l.userid,
                    COUNT(*) AS events,
                    SUM(CASE WHEN l.action = 'loggedin' THEN 1 ELSE 0 END) AS logins
               FROM {logstore_standard_log} l
              WHERE l.timecreated >= ? AND l.timecreated < ? AND ` + OwnEventSQL("l") + `
              GROUP BY l.userid) a ON a.userid = u.id
 WHERE u.deleted = 0
 GROUP BY u.auth`,
	Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Cost: "One day of log rows through the index on timecreated, grouped by user, joined to the user table.",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.auth.users[{#AUTH}]",
			Name:        "Users with authentication {#AUTH}",
			Description: "Non-deleted, non-suspended users whose authentication plugin (user.auth) is this one, at collection time, on any MNet host; the guest account counts under manual.",
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       authByPlugin,
			Column:      "users",
			Discovery:   AuthPlugins,
			Aggregate:   measures.Sum,
			Domain:      "auth",
		},
		measures.Measure{
			Key:         "moodle.auth.activeusers[{#AUTH}]",
			Name:        "Active users with authentication {#AUTH}",
			Description: "Non-deleted users of this authentication plugin (guest account excluded) with at least one standard log event of their own during the calendar day, not counting events done by someone logged in as them or by a command-line script; read from the log rather than user.lastaccess, which only keeps the latest access.",
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       authByPlugin,
			Column:      "activeusers",
			Discovery:   AuthPlugins,
			Aggregate:   measures.Sum,
			Domain:      "auth",
		},
		measures.Measure{
			Key:         "moodle.auth.logins[{#AUTH}]",
			Name:        "Logins with authentication {#AUTH}",
			Description: "Login events (action 'loggedin', no realuserid) during the calendar day by non-deleted users of this authentication plugin, guest account excluded; \"log in as\" sessions are logged as 'loggedinas' and not counted.",
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "logins",
			Query:       authByPlugin,
			Column:      "logins",
			Discovery:   AuthPlugins,
			Aggregate:   measures.Sum,
			Domain:      "auth",
		},
	)
}
