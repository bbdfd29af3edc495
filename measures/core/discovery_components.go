package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Components: the Moodle components (core, mod_quiz, mod_forum ...) that logged standard events
// during the day, with their events and distinct users. The rule's own query gives both
// prototypes their values: one grouped pass over the day's range of the timecreated index.

// components is the discovery rule of the components that logged events.
var components = &measures.Discovery{
	Key:         "moodle.discovery.components",
	Name:        "Components with events",
	Description: "Discovers the components (the component column of the standard log: core, mod_quiz, mod_forum ...) that logged at least one event during the day, in name order.",
	Family:      measures.Daily,
	Query: &measures.Query{
		Name: "components.discovery",
		SQL: `SELECT component, COUNT(*) AS events,
       COUNT(DISTINCT CASE WHEN userid > 0 THEN userid END) AS users
  FROM {logstore_standard_log}
 WHERE timecreated >= ? AND timecreated < ?
 GROUP BY component
 ORDER BY component`,
		Args: func(p measures.Params) []any { return []any{p.From(), p.To()} },
		Cost: "One day of the log through the index on timecreated, grouped by component.",
	},
	Macros:     []measures.LLDMacro{{Macro: "{#COMPONENT}", Column: "component"}},
	Population: "users",
	Rank:       "events",
	// Items go away soon after a component stops logging: a daily rule is not an inventory.
	Lifetime: "7d",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.component.events[{#COMPONENT}]",
			Name:        "Component {#COMPONENT}: events (day)",
			Description: "Standard log events of the day logged by the component, of every origin.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "events",
			Query: components.Query, Column: "events", Discovery: components,
			Aggregate: measures.Sum, Domain: "events", Graph: "Component {#COMPONENT}: events and users (day)",
		},
		measures.Measure{
			Key:         "moodle.component.users[{#COMPONENT}]",
			Name:        "Component {#COMPONENT}: distinct users (day)",
			Description: "Distinct users (user id of the event, not 0) with at least one standard log event of the day logged by the component.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: components.Query, Column: "users", Discovery: components,
			Aggregate: measures.Sum, Domain: "events", Graph: "Component {#COMPONENT}: events and users (day)",
		},
	)
}
