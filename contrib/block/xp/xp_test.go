package xp_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/contrib/block/xp"
	"github.com/moodle-zabbix/moodle-zabbix/contrib/contribtest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The daily and monthly windows, written out rather than computed by the code under test.
var (
	dayStart   = time.Date(2026, 5, 31, 0, 0, 0, 0, contribtest.Location).Unix()
	dayEnd     = time.Date(2026, 6, 1, 0, 0, 0, 0, contribtest.Location).Unix()
	monthStart = time.Date(2026, 5, 1, 0, 0, 0, 0, contribtest.Location).Unix()
)

// block_xp_log, with the columns of the plugin's db/install.xml.
var logTable = contribtest.Table{Name: "block_xp_log", Columns: []contribtest.Column{
	{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
	{Name: "courseid", Type: contribtest.TypeInt, Length: 10, NotNull: true},
	{Name: "userid", Type: contribtest.TypeInt, Length: 10, NotNull: true},
	{Name: "eventname", Type: contribtest.TypeChar, Length: 255, NotNull: true},
	{Name: "xp", Type: contribtest.TypeInt, Length: 10, NotNull: true},
	{Name: "time", Type: contribtest.TypeInt, Length: 10, NotNull: true},
}, Indexes: []contribtest.Index{
	{Name: "courseuser", Fields: []string{"courseid", "userid"}},
	{Name: "time", Fields: []string{"time"}},
}}

type earning struct{ course, user, points, time int64 }

// event is a row of the standard log: its event name, the user it concerns and its time.
type event struct {
	name          string
	related, time int64
}

type site struct {
	earnings []earning
	events   []event
}

func newSite(m *contribtest.Site) site {
	c := func(i int) int64 { return m.Courses[1+i%(len(m.Courses)-1)].ID }
	u := func(i int) int64 { return m.Users[2+i%(len(m.Users)-2)].ID }
	other := `\core\event\course_viewed`
	return site{
		earnings: []earning{
			{c(0), u(0), 10, dayStart}, {c(0), u(0), 45, dayStart + 60}, {c(0), u(1), 20, dayEnd - 1},
			{c(1), u(1), 5, dayStart + 3600}, {c(2), u(2), 100, dayStart + 7200}, {c(3), u(3), 7, dayStart + 8000},
			{c(5), u(7), 8, dayStart + 20000}, {c(0), u(4), 30, dayStart - 1}, {c(4), u(5), 50, dayEnd}, {c(1), u(6), 60, dayStart + 43200},
		},
		events: []event{
			{xp.LevelUpEvent, u(0), dayStart + 61}, {xp.LevelUpEvent, u(0), dayStart + 3000},
			{xp.LevelUpEvent, u(2), dayStart + 7201}, {xp.LevelUpEvent, u(6), dayEnd - 1},
			{xp.LevelUpEvent, u(2), dayStart + 9000}, {xp.LevelUpEvent, u(3), dayStart + 9500}, {xp.LevelUpEvent, u(3), dayStart + 9600},
			{xp.LevelUpEvent, u(4), dayStart - 1}, {xp.LevelUpEvent, u(5), dayEnd},
			{other, u(1), dayStart + 100},
		},
	}
}

// want computes the expected values of the daily keys from the rows, in Go.
func (s site) want() map[string]string { return s.wantIn(dayStart, dayEnd) }

// wantMonth computes the expected values of the monthly keys.
func (s site) wantMonth() map[string]string {
	w := s.wantIn(monthStart, dayEnd)
	return map[string]string{
		"moodle.xp.monthlypoints":   w["moodle.xp.points"],
		"moodle.xp.monthlyearners":  w["moodle.xp.earners"],
		"moodle.xp.monthlylevelups": w["moodle.xp.levelups"],
	}
}

// wantIn computes the values of the daily keys for the window [from, to).
func (s site) wantIn(from, to int64) map[string]string {
	in := func(t int64) bool { return t >= from && t < to }
	points := int64(0)
	earners, courses, leveled := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for _, e := range s.earnings {
		if in(e.time) {
			points += e.points
			earners[e.user] = true
			courses[e.course] = true
		}
	}
	levelups := 0
	for _, e := range s.events {
		if in(e.time) && e.name == xp.LevelUpEvent {
			levelups++
			leveled[e.related] = true
		}
	}
	return map[string]string{
		"moodle.xp.points":       strconv.FormatInt(points, 10),
		"moodle.xp.earners":      strconv.Itoa(len(earners)),
		"moodle.xp.courses":      strconv.Itoa(len(courses)),
		"moodle.xp.levelups":     strconv.Itoa(levelups),
		"moodle.xp.leveledusers": strconv.Itoa(len(leveled)),
	}
}

// TestPack checks the pack on SQLite, MariaDB and PostgreSQL: skipped without the plugin,
// exact values with it.
func TestPack(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: xp.Register, Component: xp.Component, Family: measures.Daily,
		Install: func(t *testing.T, db *contribtest.DB, m *contribtest.Site) map[string]string {
			s := newSite(m)
			install(t, db, s)
			return s.want()
		},
	})
}

// TestPackMonthly checks the month's keys the same way.
func TestPackMonthly(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: xp.Register, Component: xp.Component, Family: measures.Monthly,
		Install: func(t *testing.T, db *contribtest.DB, m *contribtest.Site) map[string]string {
			s := newSite(m)
			install(t, db, s)
			return s.wantMonth()
		},
	})
}

// install creates block_xp_log and writes the plugin's version row, the points and the
// events in the standard log.
func install(t *testing.T, db *contribtest.DB, s site) {
	t.Helper()
	db.CreateTables(t, logTable)
	db.InstallPlugin(t, xp.Component, "2024121700")
	for _, e := range s.earnings {
		db.Exec(t, "INSERT INTO {block_xp_log} (courseid, userid, eventname, xp, time) VALUES (?, ?, ?, ?, ?)",
			e.course, e.user, `\mod_forum\event\post_created`, e.points, e.time)
	}
	for _, e := range s.events {
		db.Exec(t, `INSERT INTO {logstore_standard_log} (eventname, component, action, target, crud, edulevel, contextid,
       contextlevel, contextinstanceid, userid, courseid, relateduserid, anonymous, other, timecreated, origin)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.name, "block_xp", "leveledup", "user", "u", 0, 1, contextSystem, 0, e.related, 1, e.related, 0,
			`{"level":2}`, e.time, "web")
	}
}

// contextSystem is Moodle's CONTEXT_SYSTEM context level.
const contextSystem = 10
