// Package hvp holds the measures of mod_hvp, the H5P activity module from h5p.org (not Moodle's
// core mod_h5pactivity): H5P contents created and updated each day, and the stock of contents,
// of courses holding them and of content types in use. The number of hvp course modules is a
// core measure (moodle.modules.hvp.all) and is not repeated here. The measures go to the
// "Moodle hvp" template and are skipped on sites where the plugin is not installed.
package hvp

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Component is the plugin's frankenstyle name, as {config_plugins} records it.
const Component = "mod_hvp"

// Template is the Zabbix host template carrying the pack's items; link it to the hosts of
// sites that have the plugin.
const Template = "Moodle hvp"

// daily fills every key of the pack in one pass over {hvp}, which holds one row per H5P
// content (activity instance). Contents created after the window are left out, so a late run
// reports the stock as it was at the end of the day.
var daily = &measures.Query{
	Name: "hvp.daily",
	SQL: `SELECT COUNT(*) AS contents,
       SUM(CASE WHEN h.timecreated >= ? THEN 1 ELSE 0 END) AS created,
       SUM(CASE WHEN h.timecreated < ? AND h.timemodified >= ? AND h.timemodified < ? THEN 1 ELSE 0 END) AS updated,
       COUNT(DISTINCT h.course) AS courses,
       COUNT(DISTINCT l.machine_name) AS contenttypes
  FROM {hvp} h
  LEFT JOIN {hvp_libraries} l ON l.id = h.main_library_id
 WHERE h.timecreated < ?`,
	Args: func(p measures.Params) []any {
		return []any{p.From(), p.From(), p.From(), p.To(), p.To()}
	},
	Component: Component,
	Cost:      "One pass over the hvp table (one row per H5P content, no text column read) joined to the small hvp_libraries table by primary key.",
}

// Register adds the pack's measures to r; init registers them in measures.Default, and tests
// use a fresh registry. It panics on an invalid definition.
func Register(r *measures.Registry) {
	r.MustRegister(
		measures.Measure{
			Key:         "moodle.hvp.created",
			Name:        "H5P contents created",
			Description: "H5P (mod_hvp) contents created during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "contents",
			Query: daily, Column: "created",
			Aggregate: measures.Sum, Template: Template, Domain: "hvp",
			Graph: "H5P contents created and updated", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.hvp.updated",
			Name:        "H5P contents updated",
			Description: "H5P (mod_hvp) contents created before the day whose last modification time falls within the day; a content edited again after the day is not counted.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "contents",
			Query: daily, Column: "updated",
			Aggregate: measures.Sum, Template: Template, Domain: "hvp",
			Graph: "H5P contents created and updated",
		},
		measures.Measure{
			Key:         "moodle.hvp.contents",
			Name:        "H5P contents",
			Description: "H5P (mod_hvp) contents stored on the site that were created before the end of the day, whatever the state of their course module.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "contents",
			Query: daily, Column: "contents",
			Aggregate: measures.Sum, Template: Template, Domain: "hvp",
		},
		measures.Measure{
			Key:         "moodle.hvp.courses",
			Name:        "Courses with H5P contents",
			Description: "Distinct courses holding at least one H5P (mod_hvp) content created before the end of the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: daily, Column: "courses",
			Aggregate: measures.Sum, Template: Template, Domain: "hvp",
		},
		measures.Measure{
			Key:         "moodle.hvp.contenttypes",
			Name:        "H5P content types in use",
			Description: "Distinct H5P content types (main library machine names, any version) used by mod_hvp contents created before the end of the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "content types",
			Query: daily, Column: "contenttypes",
			// Sites share content types, so the fleet shows the largest variety, not a sum.
			Aggregate: measures.Max, Template: Template, Domain: "hvp",
		},
	)
}

func init() { Register(measures.Default) }
