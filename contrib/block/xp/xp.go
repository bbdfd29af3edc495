// Package xp holds the measures of block_xp (Level Up XP), the gamification block: points
// earned each day and each month, the users and courses earning them, and the levels reached. Points come
// from the block's own log (block_xp_log, kept while the block logs); levels from the
// \block_xp\event\user_leveledup events of Moodle's standard log. The measures go to the
// "Moodle xp" template and are skipped on sites where the plugin is not installed.
package xp

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Component is the plugin's frankenstyle name, as {config_plugins} records it.
const Component = "block_xp"

// Template is the Zabbix host template carrying the pack's items; link it to the hosts of
// sites that have the plugin.
const Template = "Moodle xp"

// LevelUpEvent is the event block_xp logs when a user reaches a new level; its relateduserid
// is that user.
const LevelUpEvent = `\block_xp\event\user_leveledup`

// daily and monthly fill every key of the pack, each in one round trip.
var (
	daily   = periodQuery("xp.daily")
	monthly = periodQuery("xp.monthly")
)

// periodQuery runs periodSQL over the family's window.
func periodQuery(name string) *measures.Query {
	return &measures.Query{
		Name: name,
		SQL:  periodSQL,
		Args: func(p measures.Params) []any {
			return []any{p.From(), p.To(), p.From(), p.To(), LevelUpEvent}
		},
		Component: Component,
		Cost:      "The window's rows of block_xp_log through its index on time, and the window's standard log rows through the index on timecreated.",
	}
}

// periodSQL reads the window's block_xp_log rows and the window's level-up events of the
// standard log, as two one-row derived tables.
const periodSQL = `SELECT x.points, x.earners, x.courses, l.levelups, l.leveledusers
  FROM (SELECT SUM(xp) AS points, COUNT(DISTINCT userid) AS earners, COUNT(DISTINCT courseid) AS courses
          FROM {block_xp_log}
         WHERE time >= ? AND time < ?) x
 CROSS JOIN (SELECT COUNT(*) AS levelups, COUNT(DISTINCT relateduserid) AS leveledusers
          FROM {logstore_standard_log}
         WHERE timecreated >= ? AND timecreated < ? AND eventname = ?) l`

// Register adds the pack's measures to r; init registers them in measures.Default, and tests
// use a fresh registry. It panics on an invalid definition.
func Register(r *measures.Registry) {
	r.MustRegister(
		measures.Measure{
			Key:         "moodle.xp.points",
			Name:        "XP points earned",
			Description: "Experience points earned in all courses during the day, as block_xp logs them (0 where the block keeps no log).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "points",
			Query: daily, Column: "points",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
			Graph: "XP points earned", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.xp.earners",
			Name:        "Users earning XP",
			Description: "Distinct users who earned experience points during the day, as block_xp logs them.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: daily, Column: "earners",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
			Graph: "XP earners and levels", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.xp.courses",
			Name:        "Courses awarding XP",
			Description: "Distinct courses (the front page included) in which experience points were earned during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: daily, Column: "courses",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
		},
		measures.Measure{
			Key:         "moodle.xp.levelups",
			Name:        "XP level-ups",
			Description: "Level-ups during the day, all users and courses together: the \\block_xp\\event\\user_leveledup events of the standard log.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "levels",
			Query: daily, Column: "levelups",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
			Graph: "XP earners and levels",
		},
		measures.Measure{
			Key:         "moodle.xp.monthlypoints",
			Name:        "XP points earned (month)",
			Description: "Experience points earned in all courses during the month, as block_xp logs them (0 where the block keeps no log).",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "points",
			Query: monthly, Column: "points",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
			Graph: "XP per month", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.xp.monthlyearners",
			Name:        "Users earning XP (month)",
			Description: "Distinct users who earned experience points during the month, as block_xp logs them.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "users",
			Query: monthly, Column: "earners",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
			Graph: "XP earners and levels per month",
		},
		measures.Measure{
			Key:         "moodle.xp.monthlylevelups",
			Name:        "XP level-ups (month)",
			Description: "Level-ups during the month, all users and courses together: the \\block_xp\\event\\user_leveledup events of the standard log.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "levels",
			Query: monthly, Column: "levelups",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
			Graph: "XP earners and levels per month",
		},
		measures.Measure{
			Key:         "moodle.xp.leveledusers",
			Name:        "Users reaching a level",
			Description: "Distinct users who reached a new level in any course during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: daily, Column: "leveledusers",
			Aggregate: measures.Sum, Template: Template, Domain: "xp",
			Graph: "XP earners and levels",
		},
	)
}

func init() { Register(measures.Default) }
