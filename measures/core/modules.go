package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Module measures: course modules (activity and resource instances) that are not being
// deleted, hidden ones included.

// modulesCounts fills the core module counts in one pass over {course_modules}.
var modulesCounts = &measures.Query{
	Name: "modules.counts",
	SQL: `SELECT COUNT(*) AS allmodules,
       SUM(CASE WHEN m.name = 'assign' THEN 1 ELSE 0 END) AS assigns,
       SUM(CASE WHEN m.name = 'forum' THEN 1 ELSE 0 END) AS forums,
       SUM(CASE WHEN m.name = 'quiz' THEN 1 ELSE 0 END) AS quizzes,
       SUM(CASE WHEN m.name = 'resource' THEN 1 ELSE 0 END) AS resources
  FROM {course_modules} cm
  JOIN {modules} m ON m.id = cm.module
 WHERE cm.deletioninprogress = 0`,
	Cost: "One pass over course_modules joined to the small modules table.",
}

// modulesOf returns a query counting the course modules of one third-party module type,
// skipped when the plugin is not installed.
func modulesOf(name string) *measures.Query {
	return &measures.Query{
		Name: "modules." + name,
		SQL: `SELECT COUNT(*) AS n
  FROM {course_modules} cm
  JOIN {modules} m ON m.id = cm.module
 WHERE cm.deletioninprogress = 0 AND m.name = '` + name + `'`,
		Component: "mod_" + name,
		Cost:      "One pass over course_modules (index on module) for one module type.",
	}
}

func init() {
	const fixVisible = "The plugin also required visibleoncoursepage = 1, which dropped activities that are available but not shown on the course page."
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.modules.all",
			Name:        "Course modules",
			Description: "Course modules of every type that are not being deleted, hidden ones included.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: modulesCounts, Column: "allmodules",
			Aggregate: measures.Sum, Domain: "modules", Graph: "Course modules", Dashboard: true, Legacy: true,
			Fixes: fixVisible,
		},
		measures.Measure{
			Key:         "moodle.modules.assign.all",
			Name:        "Assignments",
			Description: "Course modules of type assign (assignments) that are not being deleted, hidden ones included.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: modulesCounts, Column: "assigns",
			Aggregate: measures.Sum, Domain: "modules", Graph: "Course modules by type", Legacy: true,
			Fixes: fixVisible,
		},
		measures.Measure{
			Key:         "moodle.modules.forum.all",
			Name:        "Forums",
			Description: "Course modules of type forum that are not being deleted, hidden ones included.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: modulesCounts, Column: "forums",
			Aggregate: measures.Sum, Domain: "modules", Graph: "Course modules by type", Legacy: true,
			Fixes: fixVisible,
		},
		measures.Measure{
			Key:         "moodle.modules.quiz.all",
			Name:        "Quizzes",
			Description: "Course modules of type quiz that are not being deleted, hidden ones included.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: modulesCounts, Column: "quizzes",
			Aggregate: measures.Sum, Domain: "modules", Graph: "Course modules by type", Legacy: true,
			Fixes: fixVisible,
		},
		measures.Measure{
			Key:         "moodle.modules.resource.all",
			Name:        "File resources",
			Description: "Course modules of type resource (files) that are not being deleted, hidden ones included.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: modulesCounts, Column: "resources",
			Aggregate: measures.Sum, Domain: "modules", Graph: "Course modules by type", Legacy: true,
			Fixes: "The plugin looked for the module names file and url, but the core module is called resource, so it counted only URLs.",
		},
		measures.Measure{
			Key:         "moodle.modules.hvp.all",
			Name:        "H5P (mod_hvp) activities",
			Description: "Course modules of the third-party type hvp that are not being deleted, hidden ones included; skipped when mod_hvp is not installed.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: modulesOf("hvp"), Column: "n",
			Aggregate: measures.Sum, Domain: "modules", Legacy: true,
			Fixes: "The plugin sent 0 when mod_hvp was not installed, which reads like an installed plugin with no activity.",
		},
		measures.Measure{
			Key:         "moodle.modules.mplayer.all",
			Name:        "Media player (mod_mplayer) activities",
			Description: "Course modules of the third-party type mplayer that are not being deleted, hidden ones included; skipped when mod_mplayer is not installed.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "modules",
			Query: modulesOf("mplayer"), Column: "n",
			Aggregate: measures.Sum, Domain: "modules", Legacy: true,
			Fixes: "The plugin sent 0 when mod_mplayer was not installed, which reads like an installed plugin with no activity.",
		},
	)
}
