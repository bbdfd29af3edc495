// Package learningtimecheck holds the measures of mod_learningtimecheck, the activity that
// tracks training time for regulatory reporting: items checked off by students and by
// teachers each day (and each month for students), the users who completed an activity's mandatory items, and the learning
// time their check-offs credited. It keeps the keys report_zabbix read from the plugin's own
// indicator (moodle.ltc.*) and fixes their window. The measures go to the "Moodle
// learningtimecheck" template and are skipped on sites where the plugin is not installed.
package learningtimecheck

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Component is the plugin's frankenstyle name, as {config_plugins} records it.
const Component = "mod_learningtimecheck"

// Template is the Zabbix host template carrying the pack's items; link it to the hosts of
// sites that have the plugin.
const Template = "Moodle learningtimecheck"

// required selects the items a user must check to complete an activity: mandatory
// (itemoptional 0, not optional 1 nor a heading 2), visible, and set by the teacher rather
// than added by a user to their own list.
const required = "itemoptional = 0 AND hidden = 0 AND userid = 0"

// daily and monthly fill every key of the pack, each in one round trip.
var (
	daily   = periodQuery("learningtimecheck.daily")
	monthly = periodQuery("learningtimecheck.monthly")
)

// periodQuery runs periodSQL over the family's window.
func periodQuery(name string) *measures.Query {
	return &measures.Query{
		Name: name,
		SQL:  periodSQL,
		Args: func(p measures.Params) []any {
			return []any{p.From(), p.To(), p.To(), p.From(), p.From(), p.To()}
		},
		Component: Component,
		Cost: "learningtimecheck_check has no index on its timestamps, so three passes over the check-offs (one row per user " +
			"and item checked), joined to the items by primary key; the completion pass groups the checks made before the window's end.",
	}
}

// periodSQL reads the student check-offs of the window joined to their items, with scalar
// subqueries for the teacher marks and the completions. A completion is a user and activity
// whose required items are all checked by the end of the window, the last of them during it.
const periodSQL = `SELECT COUNT(*) AS studentmarks,
       SUM(CASE WHEN i.itemoptional = 0 THEN 1 ELSE 0 END) AS mandatorymarks,
       SUM(COALESCE(i.credittime, 0)) * 60 AS credited,
       (SELECT COUNT(*) FROM {learningtimecheck_check} tc
         WHERE tc.teachertimestamp >= ? AND tc.teachertimestamp < ?) AS teachermarks,
       (SELECT COUNT(DISTINCT d.userid)
          FROM (SELECT uc.userid AS userid, ui.learningtimecheck AS ltc, COUNT(DISTINCT uc.item) AS checked,
                       MAX(uc.usertimestamp) AS lastcheck
                  FROM {learningtimecheck_check} uc
                  JOIN {learningtimecheck_item} ui ON ui.id = uc.item
                 WHERE ui.itemoptional = 0 AND ui.hidden = 0 AND ui.userid = 0
                   AND uc.usertimestamp > 0 AND uc.usertimestamp < ?
                 GROUP BY uc.userid, ui.learningtimecheck) d
          JOIN (SELECT learningtimecheck AS ltc, COUNT(*) AS items
                  FROM {learningtimecheck_item}
                 WHERE ` + required + `
                 GROUP BY learningtimecheck) t ON t.ltc = d.ltc
         WHERE d.checked = t.items AND d.lastcheck >= ?) AS completions
  FROM {learningtimecheck_check} c
  JOIN {learningtimecheck_item} i ON i.id = c.item
 WHERE c.usertimestamp >= ? AND c.usertimestamp < ?`

// Register adds the pack's measures to r; init registers them in measures.Default, and tests
// use a fresh registry. It panics on an invalid definition.
func Register(r *measures.Registry) {
	const window = "report_zabbix counted the 24 hours before the run, so a late or repeated run counted another day."
	r.MustRegister(
		measures.Measure{
			Key:         "moodle.ltc.dailystudentmarks",
			Name:        "Learning time check-offs by students",
			Description: "Items of learningtimecheck activities checked off by students during the day (check rows whose user timestamp falls in the day).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "checks",
			Query: daily, Column: "studentmarks",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph: "Learning time check-offs", Dashboard: true,
			Legacy: true, Fixes: window,
			Triggers: []measures.Trigger{{
				Name:        "No learning time was checked off on {HOST.NAME} for {$MOODLE.LTC.IDLE.PERIOD}",
				Expression:  "max({item},{$MOODLE.LTC.IDLE.PERIOD})=0",
				Severity:    measures.Information,
				Description: "No student checked off any learningtimecheck item for that long: training-time tracking may have stopped (activities hidden, automatic updates off), or the site is on holiday.",
				Macros: []measures.Macro{{
					Name:        "{$MOODLE.LTC.IDLE.PERIOD}",
					Value:       "7d",
					Description: "How long without any student check-off before the idle-tracking problem is raised.",
				}},
			}},
		},
		measures.Measure{
			Key:         "moodle.ltc.dailystudentmandatorymarks",
			Name:        "Learning time check-offs of mandatory items",
			Description: "Mandatory items (neither optional nor headings) of learningtimecheck activities checked off by students during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "checks",
			Query: daily, Column: "mandatorymarks",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph:  "Learning time check-offs",
			Legacy: true, Fixes: window,
		},
		measures.Measure{
			Key:         "moodle.ltc.dailyteachermarks",
			Name:        "Learning time marks by teachers",
			Description: "Learningtimecheck items marked by teachers during the day (check rows whose teacher timestamp falls in the day).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "checks",
			Query: daily, Column: "teachermarks",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph:  "Learning time check-offs",
			Legacy: true, Fixes: window,
		},
		measures.Measure{
			Key:         "moodle.ltc.dailyfullcompletions",
			Name:        "Users checked complete",
			Description: "Distinct users who, during the day, checked off the last required item (mandatory, visible, set by the teacher) of a learningtimecheck activity, so that all its required items are checked at the end of the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: daily, Column: "completions",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph: "Users checked complete", Dashboard: true,
			Legacy: true,
			Fixes:  "report_zabbix grouped the check rows by a learningtimecheck column that learningtimecheck_check does not have, so the query failed on every site.",
		},
		measures.Measure{
			Key:         "moodle.ltc.monthlystudentmarks",
			Name:        "Learning time check-offs by students (month)",
			Description: "Items of learningtimecheck activities checked off by students during the month.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "checks",
			Query: monthly, Column: "studentmarks",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph: "Learning time per month", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.ltc.monthlyfullcompletions",
			Name:        "Users checked complete (month)",
			Description: "Distinct users who, during the month, checked off the last required item (mandatory, visible, set by the teacher) of a learningtimecheck activity, so that all its required items are checked at the end of the month.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "users",
			Query: monthly, Column: "completions",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph: "Learning time per month",
		},
		measures.Measure{
			Key:         "moodle.ltc.monthlycredittime",
			Name:        "Learning time credited (month)",
			Description: "Learning time credited by the items students checked off during the month, in seconds: the sum of the checked items' credit times, which the activity stores in minutes.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "s",
			Query: monthly, Column: "credited",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph: "Learning time credited per month", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.ltc.dailycredittime",
			Name:        "Learning time credited",
			Description: "Learning time credited by the items students checked off during the day, in seconds: the sum of the checked items' credit times, which the activity stores in minutes.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "s",
			Query: daily, Column: "credited",
			Aggregate: measures.Sum, Template: Template, Domain: "learningtimecheck",
			Graph: "Learning time credited", Dashboard: true,
		},
	)
}

func init() { Register(measures.Default) }
