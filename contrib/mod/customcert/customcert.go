// Package customcert holds the measures of mod_customcert, the "Custom certificate" activity
// module: certificates issued each day, the courses and users they went to, and the number of
// certificate activities. The measures go to the "Moodle customcert" template and are skipped
// on sites where the plugin is not installed.
package customcert

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Component is the plugin's frankenstyle name, as {config_plugins} records it.
const Component = "mod_customcert"

// Template is the Zabbix host template carrying the pack's items; link it to the hosts of
// sites that have the plugin.
const Template = "Moodle customcert"

// daily fills every key of the pack in one round trip: the issues of the day (with their
// courses through {customcert}) and, as a scalar subquery, the live certificate activities.
var daily = &measures.Query{
	Name: "customcert.daily",
	SQL: `SELECT COUNT(i.id) AS issued,
       COUNT(DISTINCT i.userid) AS recipients,
       COUNT(DISTINCT c.course) AS courses,
       (SELECT COUNT(*)
          FROM {customcert} a
          JOIN {course_modules} cm ON cm.instance = a.id
          JOIN {modules} m ON m.id = cm.module
         WHERE m.name = 'customcert' AND cm.deletioninprogress = 0) AS activities
  FROM {customcert_issues} i
  LEFT JOIN {customcert} c ON c.id = i.customcertid
 WHERE i.timecreated >= ? AND i.timecreated < ?`,
	Args:      func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Component: Component,
	Cost: "customcert_issues has no index on timecreated, so one pass over the issues (one row per certificate " +
		"ever issued); the activity count reads course_modules through its module index.",
}

// Register adds the pack's measures to r; init registers them in measures.Default, and tests
// use a fresh registry. It panics on an invalid definition.
func Register(r *measures.Registry) {
	r.MustRegister(
		measures.Measure{
			Key:         "moodle.customcert.issued",
			Name:        "Custom certificates issued",
			Description: "Certificates issued by Custom certificate activities during the day (customcert_issues rows created in the window).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "certificates",
			Query: daily, Column: "issued",
			Aggregate: measures.Sum, Template: Template, Domain: "customcert",
			Graph: "Custom certificates issued", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.customcert.recipients",
			Name:        "Custom certificate recipients",
			Description: "Distinct users who were issued at least one custom certificate during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: daily, Column: "recipients",
			Aggregate: measures.Sum, Template: Template, Domain: "customcert",
			Graph: "Custom certificates issued",
		},
		measures.Measure{
			Key:         "moodle.customcert.courses",
			Name:        "Courses issuing custom certificates",
			Description: "Distinct courses whose Custom certificate activities issued at least one certificate during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: daily, Column: "courses",
			Aggregate: measures.Sum, Template: Template, Domain: "customcert",
		},
		measures.Measure{
			Key:         "moodle.customcert.activities",
			Name:        "Custom certificate activities",
			Description: "Custom certificate activities whose course module is not being deleted, hidden ones included, at collection time.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "activities",
			Query: daily, Column: "activities",
			Aggregate: measures.Sum, Template: Template, Domain: "customcert",
		},
	)
}

func init() { Register(measures.Default) }
