package learningtimecheck_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/contrib/contribtest"
	"github.com/moodle-zabbix/moodle-zabbix/contrib/mod/learningtimecheck"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The daily and monthly windows, written out rather than computed by the code under test.
var (
	dayStart   = time.Date(2026, 5, 31, 0, 0, 0, 0, contribtest.Location).Unix()
	dayEnd     = time.Date(2026, 6, 1, 0, 0, 0, 0, contribtest.Location).Unix()
	monthStart = time.Date(2026, 5, 1, 0, 0, 0, 0, contribtest.Location).Unix()
)

// The plugin's tables the measures read, with the columns of its db/install.xml.
var (
	itemTable = contribtest.Table{Name: "learningtimecheck_item", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "learningtimecheck", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "userid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "displaytext", Type: contribtest.TypeText, NotNull: true},
		{Name: "position", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "indent", Type: contribtest.TypeInt, Length: 8, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "itemoptional", Type: contribtest.TypeInt, Length: 4, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "credittime", Type: contribtest.TypeInt, Length: 10, HasDefault: true, Default: "0"},
		{Name: "teachercredittime", Type: contribtest.TypeInt, Length: 10, HasDefault: true, Default: "0"},
		{Name: "teachercredittimeperuser", Type: contribtest.TypeInt, Length: 10, HasDefault: true, Default: "0"},
		{Name: "enablecredit", Type: contribtest.TypeInt, Length: 1, HasDefault: true, Default: "0"},
		{Name: "isdeclarative", Type: contribtest.TypeInt, Length: 4, HasDefault: true, Default: "0"},
		{Name: "eventid", Type: contribtest.TypeInt, Length: 10, HasDefault: true, Default: "0"},
		{Name: "colour", Type: contribtest.TypeChar, Length: 15, NotNull: true, HasDefault: true, Default: "black"},
		{Name: "moduleid", Type: contribtest.TypeInt, Length: 10, HasDefault: true, Default: "0"},
		{Name: "hidden", Type: contribtest.TypeInt, Length: 4, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "groupingid", Type: contribtest.TypeInt, Length: 10, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{
		{Name: "userid", Fields: []string{"userid"}},
		{Name: "learningtimecheck", Fields: []string{"learningtimecheck"}},
		{Name: "item_module", Fields: []string{"moduleid"}},
	}}

	checkTable = contribtest.Table{Name: "learningtimecheck_check", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "item", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "userid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "usertimestamp", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "declaredtime", Type: contribtest.TypeInt, Length: 11, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "teacherid", Type: contribtest.TypeInt, Length: 4, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "teachermark", Type: contribtest.TypeInt, Length: 4, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "teacherdeclaredtime", Type: contribtest.TypeInt, Length: 11, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "teachertimestamp", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{
		{Name: "ix_item", Fields: []string{"item"}},
		{Name: "ix_userid", Fields: []string{"userid"}},
		{Name: "ix_teacherid", Fields: []string{"teacherid"}},
	}}
)

type item struct {
	id, activity int64
	optional     int // 0 mandatory, 1 optional, 2 heading
	hidden       bool
	owner        int64 // the user who added it to their own list; 0 for the teacher's items
	credit       int64 // minutes
}

type check struct {
	item, user        int64
	userAt, teacherAt int64 // the user's and the teacher's timestamps (0: not checked)
}

type site struct {
	items  []item
	checks []check
}

func newSite(m *contribtest.Site) site {
	u := func(i int) int64 { return m.Users[2+i%(len(m.Users)-2)].ID }
	return site{
		items: []item{
			{1, 1, 0, false, 0, 30}, {2, 1, 0, false, 0, 15}, {3, 1, 1, false, 0, 10}, {4, 1, 2, false, 0, 0},
			{5, 1, 0, true, 0, 20}, {6, 1, 0, false, u(0), 5},
			{7, 2, 0, false, 0, 60}, {8, 2, 0, false, 0, 45},
			{9, 3, 0, false, 0, 0},
		},
		checks: []check{
			// u0 completes activity 1 during the day (the hidden and the user's own items do
			// not count), with an optional item on the way, and activity 3 too.
			{1, u(0), dayStart + 100, dayStart + 150}, {3, u(0), dayStart + 200, dayStart + 300}, {2, u(0), dayStart + 5000, 0},
			{9, u(0), dayStart + 10, 0},
			// u1 checks its last required item of activity 1 after the day.
			{1, u(1), dayStart - 500, 0}, {2, u(1), dayEnd, dayEnd + 10},
			// u2 completes activity 2 during the day, and checks one item of activity 1 at
			// the day's last second.
			{7, u(2), dayStart - 86400, dayStart - 86000}, {8, u(2), dayStart + 3000, dayStart + 3600}, {1, u(2), dayEnd - 1, 0},
			// u3 completed activity 2 before the day.
			{7, u(3), dayStart - 100, 0}, {8, u(3), dayStart - 50, 0},
			// u4 completes activity 3 at the day's first second.
			{9, u(4), dayStart, dayStart + 400},
			// u6 completes activity 1 alone: it counts only if the hidden item and u0's own
			// item are not required.
			{1, u(6), dayStart + 20000, 0}, {2, u(6), dayStart + 20001, 0},
			// A row a teacher marked during the day that the student never checked.
			{2, u(5), 0, dayStart + 7000}, {6, u(0), dayStart + 9000, 0},
		},
	}
}

// want computes the expected values of the daily keys from the rows, in Go.
func (s site) want() map[string]string { return s.wantIn(dayStart, dayEnd) }

// wantMonth computes the expected values of the monthly keys.
func (s site) wantMonth() map[string]string {
	w := s.wantIn(monthStart, dayEnd)
	return map[string]string{
		"moodle.ltc.monthlystudentmarks":    w["moodle.ltc.dailystudentmarks"],
		"moodle.ltc.monthlyfullcompletions": w["moodle.ltc.dailyfullcompletions"],
		"moodle.ltc.monthlycredittime":      w["moodle.ltc.dailycredittime"],
	}
}

// wantIn computes the values of the daily keys for the window [from, to).
func (s site) wantIn(from, to int64) map[string]string {
	items := map[int64]item{}
	required := map[int64]int{} // activity -> required items
	for _, it := range s.items {
		items[it.id] = it
		if it.optional == 0 && !it.hidden && it.owner == 0 {
			required[it.activity]++
		}
	}
	in := func(t int64) bool { return t >= from && t < to }
	student, mandatory, teacher, credited := 0, 0, 0, int64(0)
	type key struct{ user, activity int64 }
	checked := map[key]map[int64]bool{}
	last := map[key]int64{}
	for _, c := range s.checks {
		it := items[c.item]
		if in(c.userAt) {
			student++
			credited += it.credit * 60
			if it.optional == 0 {
				mandatory++
			}
		}
		if in(c.teacherAt) {
			teacher++
		}
		if it.optional == 0 && !it.hidden && it.owner == 0 && c.userAt > 0 && c.userAt < to {
			k := key{c.user, it.activity}
			if checked[k] == nil {
				checked[k] = map[int64]bool{}
			}
			checked[k][c.item] = true
			last[k] = max(last[k], c.userAt)
		}
	}
	completed := map[int64]bool{}
	for k, items := range checked {
		if len(items) == required[k.activity] && last[k] >= from {
			completed[k.user] = true
		}
	}
	return map[string]string{
		"moodle.ltc.dailystudentmarks":          strconv.Itoa(student),
		"moodle.ltc.dailystudentmandatorymarks": strconv.Itoa(mandatory),
		"moodle.ltc.dailyteachermarks":          strconv.Itoa(teacher),
		"moodle.ltc.dailyfullcompletions":       strconv.Itoa(len(completed)),
		"moodle.ltc.dailycredittime":            strconv.FormatInt(credited, 10),
	}
}

// TestPack checks the pack on SQLite, MariaDB and PostgreSQL: skipped without the plugin,
// exact values with it.
func TestPack(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: learningtimecheck.Register, Component: learningtimecheck.Component, Family: measures.Daily,
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
		Register: learningtimecheck.Register, Component: learningtimecheck.Component, Family: measures.Monthly,
		Install: func(t *testing.T, db *contribtest.DB, m *contribtest.Site) map[string]string {
			s := newSite(m)
			install(t, db, s)
			return s.wantMonth()
		},
	})
}

// install creates the plugin's tables and writes its version row and the test rows.
func install(t *testing.T, db *contribtest.DB, s site) {
	t.Helper()
	db.CreateTables(t, itemTable, checkTable)
	db.InstallPlugin(t, learningtimecheck.Component, "2024031900")
	for _, it := range s.items {
		db.Exec(t, `INSERT INTO {learningtimecheck_item} (id, learningtimecheck, userid, displaytext, position, itemoptional,
       credittime, hidden) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			it.id, it.activity, it.owner, "Item "+strconv.FormatInt(it.id, 10), it.id, it.optional, it.credit, map[bool]int{false: 0, true: 1}[it.hidden])
	}
	for _, c := range s.checks {
		db.Exec(t, `INSERT INTO {learningtimecheck_check} (item, userid, usertimestamp, teacherid, teachermark, teachertimestamp)
       VALUES (?, ?, ?, ?, ?, ?)`, c.item, c.user, c.userAt, 2, map[bool]int{false: 0, true: 1}[c.teacherAt > 0], c.teacherAt)
	}
}
