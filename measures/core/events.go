package core

import (
	"fmt"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Learning activity from Moodle's standard log: every event a user causes is logged with its
// class name (eventname), its educational level and its CRUD letter. The event measures count
// the window's events by learning profile, by educational level and by CRUD letter, with the
// distinct actors of each profile, in one statement per family over the window's range of the
// timecreated index.
//
// They run in the hourly, daily, weekly and monthly families. The instant family is left out:
// it runs every minute, its window is a minute, and moodle.general.webrequests already counts
// that minute's events; these measures' dozens of conditional aggregates are worth their cost
// on an hour and longer.

// LearningProfile groups the Moodle events that show one kind of learning activity.
type LearningProfile struct {
	// Name is the profile's name in keys (session, navigation ...).
	Name string
	// Title is the profile's name in item names and graphs.
	Title string
	// Events are the event class names of the profile, as logged in eventname.
	Events []string
}

// LearningProfiles is the mapping from Moodle event names to learning profiles: the one table
// the event measures, their descriptions and docs/measures.md are generated from. An event
// belongs to one profile at most; events of no profile are counted under "other".
var LearningProfiles = []LearningProfile{
	{"session", "Session", []string{
		`\core\event\user_loggedin`, `\core\event\user_loggedout`, `\core\event\user_loggedinas`}},
	{"navigation", "Navigation", []string{
		`\core\event\course_viewed`, `\core\event\dashboard_viewed`, `\core\event\course_category_viewed`,
		`\core\event\user_list_viewed`, `\core\event\mycourses_viewed`}},
	{"viewing", "Viewing", []string{
		`\mod_resource\event\course_module_viewed`, `\mod_page\event\course_module_viewed`,
		`\mod_url\event\course_module_viewed`, `\mod_book\event\course_module_viewed`,
		`\mod_folder\event\course_module_viewed`, `\mod_forum\event\course_module_viewed`,
		`\mod_quiz\event\course_module_viewed`, `\mod_assign\event\course_module_viewed`,
		`\mod_h5pactivity\event\course_module_viewed`, `\mod_lesson\event\course_module_viewed`,
		`\mod_scorm\event\course_module_viewed`}},
	{"assessment", "Assessment", []string{
		`\mod_quiz\event\attempt_started`, `\mod_quiz\event\attempt_submitted`, `\mod_quiz\event\attempt_abandoned`}},
	{"submission", "Submission", []string{
		`\mod_assign\event\assessable_submitted`, `\assignsubmission_file\event\assessable_uploaded`,
		`\assignsubmission_onlinetext\event\assessable_uploaded`, `\mod_workshop\event\assessable_uploaded`}},
	{"forum", "Forum", []string{
		`\mod_forum\event\post_created`, `\mod_forum\event\discussion_created`}},
	{"grading", "Grading", []string{
		`\mod_assign\event\submission_graded`, `\core\event\user_graded`}},
	{"enrolment", "Enrolment", []string{
		`\core\event\user_enrolment_created`, `\core\event\user_enrolment_deleted`}},
	{"completion", "Completion", []string{
		`\core\event\course_completed`, `\core\event\course_module_completion_updated`}},
}

// EduLevels are Moodle's educational levels of an event (\core\event\base::LEVEL_*).
var EduLevels = []struct {
	Name  string
	Level int
	Means string
}{
	{"teaching", 1, "teaching actions (a teacher grading, editing a course)"},
	{"participating", 2, "participating actions (a student viewing, posting, attempting)"},
	{"other", 0, "other actions (logging in, viewing the dashboard, administration)"},
}

// CRUDLetters are the CRUD letters of an event, with their names in keys.
var CRUDLetters = []struct{ Name, Letter string }{
	{"create", "c"}, {"read", "r"}, {"update", "u"}, {"delete", "d"},
}

// eventFamilies are the families with event measures, with the window's name in item names.
var eventFamilies = []struct {
	family measures.Family
	period string
}{
	{measures.Hourly, "hour"},
	{measures.Daily, "day"},
	{measures.Weekly, "week"},
	{measures.Monthly, "month"},
}

// profiledEvents lists every event name of every profile.
func profiledEvents() []string {
	var out []string
	for _, p := range LearningProfiles {
		out = append(out, p.Events...)
	}
	return out
}

// eventsQuery is the family's one statement: conditional aggregates over the window's rows.
// Event names are passed as arguments (their backslashes would be escapes in a MySQL literal).
func eventsQuery(f measures.Family) *measures.Query {
	var cols []string
	for _, p := range LearningProfiles {
		cols = append(cols,
			fmt.Sprintf("SUM(CASE WHEN eventname IN (?) THEN 1 ELSE 0 END) AS p_%s", p.Name),
			fmt.Sprintf("COUNT(DISTINCT CASE WHEN eventname IN (?) AND userid > 0 THEN userid END) AS a_%s", p.Name))
	}
	cols = append(cols, "SUM(CASE WHEN eventname NOT IN (?) THEN 1 ELSE 0 END) AS p_other")
	for _, l := range EduLevels {
		cols = append(cols, fmt.Sprintf("SUM(CASE WHEN edulevel = %d THEN 1 ELSE 0 END) AS e_%s", l.Level, l.Name))
	}
	for _, c := range CRUDLetters {
		cols = append(cols, fmt.Sprintf("SUM(CASE WHEN crud = '%s' THEN 1 ELSE 0 END) AS c_%s", c.Letter, c.Name))
	}
	cols = append(cols, "COUNT(*) AS total")
	return &measures.Query{
		Name: "events." + f.String(),
		SQL: "SELECT " + strings.Join(cols, ",\n       ") + `
  FROM {logstore_standard_log}
 WHERE timecreated >= ? AND timecreated < ?`,
		Args: func(p measures.Params) []any {
			var args []any
			for _, lp := range LearningProfiles {
				args = append(args, lp.Events, lp.Events)
			}
			return append(args, profiledEvents(), p.From(), p.To())
		},
		Cost: "One range of the timecreated index of logstore_standard_log (the window's rows, read once), aggregated into one row.",
	}
}

// seriesColours are the line colours of the event graphs, taken in the order of the table a
// series comes from (LearningProfiles, EduLevels, CRUDLetters): a series keeps its colour when
// another is added at the end of its table. otherColour draws the "other" profile.
var seriesColours = []string{
	"1E88E5", "E53935", "43A047", "FB8C00", "8E24AA",
	"00ACC1", "6D4C41", "D81B60", "FDD835", "3949AB",
}

const otherColour = "9E9E9E"

// seriesColour is the line colour of the i-th series of a table.
func seriesColour(i int) string { return seriesColours[i%len(seriesColours)] }

// eventMeasures returns the event measures of one family.
func eventMeasures(f measures.Family, period string) []measures.Measure {
	q := eventsQuery(f)
	fam := f.String()
	var out []measures.Measure
	add := func(m measures.Measure) {
		m.Family, m.Type, m.Query, m.Aggregate, m.Domain = f, measures.Unsigned, q, measures.Sum, "events"
		out = append(out, m)
	}
	for i, p := range LearningProfiles {
		list := strings.Join(p.Events, ", ")
		add(measures.Measure{
			Key:         fmt.Sprintf("moodle.events.profile[%s,%s]", fam, p.Name),
			Name:        fmt.Sprintf("%s events (%s)", p.Title, period),
			Description: fmt.Sprintf("Standard log events of the %s of the learning profile %s, whose event name is one of %s.", period, p.Name, list),
			Units:       "events", Column: "p_" + p.Name, GraphColor: seriesColour(i),
			Graph: fmt.Sprintf("Learning activity by profile (%s)", period), Dashboard: f == measures.Daily,
		})
		add(measures.Measure{
			Key:         fmt.Sprintf("moodle.events.actors[%s,%s]", fam, p.Name),
			Name:        fmt.Sprintf("%s actors (%s)", p.Title, period),
			Description: fmt.Sprintf("Distinct users (user id of the event, not 0) with at least one standard log event of the learning profile %s during the %s; a user active in several windows or profiles counts once in each.", p.Name, period),
			Units:       "users", Column: "a_" + p.Name, GraphColor: seriesColour(i),
			Graph: fmt.Sprintf("Learning actors by profile (%s)", period),
		})
	}
	add(measures.Measure{
		Key:         fmt.Sprintf("moodle.events.profile[%s,other]", fam),
		Name:        fmt.Sprintf("Events of no learning profile (%s)", period),
		Description: fmt.Sprintf("Standard log events of the %s whose event name belongs to no learning profile (failed logins, course edits, administration).", period),
		Units:       "events", Column: "p_other", GraphColor: otherColour,
		Graph: fmt.Sprintf("Learning activity by profile (%s)", period), Dashboard: f == measures.Daily,
	})
	for i, l := range EduLevels {
		add(measures.Measure{
			Key:         fmt.Sprintf("moodle.events.edulevel[%s,%s]", fam, l.Name),
			Name:        fmt.Sprintf("Events, educational level %s (%s)", l.Name, period),
			Description: fmt.Sprintf("Standard log events of the %s with educational level %d: %s.", period, l.Level, l.Means),
			Units:       "events", Column: "e_" + l.Name, GraphColor: seriesColour(i),
			Graph: fmt.Sprintf("Events by educational level (%s)", period),
		})
	}
	for i, c := range CRUDLetters {
		add(measures.Measure{
			Key:         fmt.Sprintf("moodle.events.crud[%s,%s]", fam, c.Name),
			Name:        fmt.Sprintf("Events, %s (%s)", c.Name, period),
			Description: fmt.Sprintf("Standard log events of the %s whose CRUD letter is '%s' (%s).", period, c.Letter, c.Name),
			Units:       "events", Column: "c_" + c.Name, GraphColor: seriesColour(i),
			Graph: fmt.Sprintf("Events by CRUD (%s)", period),
		})
	}
	add(measures.Measure{
		Key:         fmt.Sprintf("moodle.events.all[%s]", fam),
		Name:        fmt.Sprintf("Events (%s)", period),
		Description: fmt.Sprintf("Standard log events of the %s, of every origin and every profile.", period),
		Units:       "events", Column: "total",
	})
	return out
}

func init() {
	for _, ef := range eventFamilies {
		measures.MustRegister(eventMeasures(ef.family, ef.period)...)
	}
}
