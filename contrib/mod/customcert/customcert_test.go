package customcert_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/contrib/contribtest"
	"github.com/moodle-zabbix/moodle-zabbix/contrib/mod/customcert"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The daily window, written out rather than computed by the code under test.
var (
	dayStart = time.Date(2026, 5, 31, 0, 0, 0, 0, contribtest.Location).Unix()
	dayEnd   = time.Date(2026, 6, 1, 0, 0, 0, 0, contribtest.Location).Unix()
)

// The plugin's tables, with the columns of its db/install.xml.
var (
	certTable = contribtest.Table{Name: "customcert", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "course", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "templateid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "name", Type: contribtest.TypeChar, Length: 255, NotNull: true},
		{Name: "intro", Type: contribtest.TypeText},
		{Name: "introformat", Type: contribtest.TypeInt, Length: 4, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "requiredtime", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "verifyany", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "deliveryoption", Type: contribtest.TypeChar, Length: 3},
		{Name: "emailstudents", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "emailteachers", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "emailothers", Type: contribtest.TypeText},
		{Name: "protection", Type: contribtest.TypeChar, Length: 255, NotNull: true, HasDefault: true, Default: ""},
		{Name: "timecreated", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "timemodified", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{{Name: "templateid", Fields: []string{"templateid"}}}}

	issuesTable = contribtest.Table{Name: "customcert_issues", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "userid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "customcertid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "code", Type: contribtest.TypeChar, Length: 40},
		{Name: "emailed", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "timecreated", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{{Name: "customcertid", Fields: []string{"customcertid"}}}}
)

// cert is a customcert row and the course module the test gives it.
type cert struct {
	id, course int64
	// cm: 0 no course module, 1 a live one, 2 one being deleted.
	cm int
}

type issue struct{ user, cert, time int64 }

// site is what the test inserts on top of the core fixture.
type site struct {
	certs  []cert
	issues []issue
	// strayCMs are customcert course modules whose instance has no customcert row.
	strayCMs int
}

// newSite builds rows around the window's edges from the fixture's courses and users.
func newSite(m *contribtest.Site) site {
	c := func(i int) int64 { return m.Courses[1+i%(len(m.Courses)-1)].ID }
	u := func(i int) int64 { return m.Users[2+i%(len(m.Users)-2)].ID }
	s := site{
		certs: []cert{
			{1, c(0), 1}, {2, c(0), 1}, {3, c(1), 1}, {4, c(2), 2}, {5, c(3), 0}, {6, c(4), 1},
		},
		strayCMs: 1,
	}
	times := []int64{
		dayStart - 1, dayStart, dayStart + 1, dayStart + 3600, dayStart + 43200,
		dayEnd - 1, dayEnd, dayEnd + 60, dayStart - 86400, dayStart + 7200,
	}
	for i, t := range times {
		s.issues = append(s.issues, issue{user: u(i % 3), cert: int64(1 + i%6), time: t})
	}
	// A user earning a second certificate during the day, from another course.
	s.issues = append(s.issues, issue{user: u(0), cert: 6, time: dayStart + 100})
	return s
}

// want computes the expected values from the rows, in Go.
func (s site) want() map[string]string {
	courseOf := map[int64]int64{}
	activities := 0
	for _, c := range s.certs {
		courseOf[c.id] = c.course
		if c.cm == 1 {
			activities++
		}
	}
	issued := 0
	users, courses := map[int64]bool{}, map[int64]bool{}
	for _, is := range s.issues {
		if is.time >= dayStart && is.time < dayEnd {
			issued++
			users[is.user] = true
			if c, ok := courseOf[is.cert]; ok {
				courses[c] = true
			}
		}
	}
	return map[string]string{
		"moodle.customcert.issued":     strconv.Itoa(issued),
		"moodle.customcert.recipients": strconv.Itoa(len(users)),
		"moodle.customcert.courses":    strconv.Itoa(len(courses)),
		"moodle.customcert.activities": strconv.Itoa(activities),
	}
}

// TestPack checks the pack on SQLite, MariaDB and PostgreSQL: skipped without the plugin,
// exact values with it.
func TestPack(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: customcert.Register, Component: customcert.Component, Family: measures.Daily,
		Install: func(t *testing.T, db *contribtest.DB, m *contribtest.Site) map[string]string {
			s := newSite(m)
			install(t, db, m, s)
			return s.want()
		},
	})
}

// install creates the plugin's tables and writes its version row, module row, course modules
// and the test rows.
func install(t *testing.T, db *contribtest.DB, m *contribtest.Site, s site) {
	t.Helper()
	db.CreateTables(t, certTable, issuesTable)
	db.InstallPlugin(t, customcert.Component, "2024042200")
	var module int64
	for _, mod := range m.Modules {
		module = max(module, mod.ID+1)
	}
	db.Exec(t, "INSERT INTO {modules} (id, name, search, visible) VALUES (?, ?, ?, ?)", module, "customcert", "", 1)
	addCM := func(course, instance int64, deleting int) {
		db.Exec(t, "INSERT INTO {course_modules} (course, module, instance, section, added, deletioninprogress) VALUES (?, ?, ?, ?, ?, ?)",
			course, module, instance, 1, dayStart-86400, deleting)
	}
	for _, c := range s.certs {
		db.Exec(t, "INSERT INTO {customcert} (id, course, templateid, name, protection, timecreated, timemodified) VALUES (?, ?, ?, ?, ?, ?, ?)",
			c.id, c.course, c.id, "Certificate "+strconv.FormatInt(c.id, 10), "", dayStart-86400, dayStart-86400)
		switch c.cm {
		case 1:
			addCM(c.course, c.id, 0)
		case 2:
			addCM(c.course, c.id, 1)
		}
	}
	for i := 0; i < s.strayCMs; i++ {
		addCM(s.certs[0].course, 9000+int64(i), 0)
	}
	for i, is := range s.issues {
		db.Exec(t, "INSERT INTO {customcert_issues} (userid, customcertid, code, emailed, timecreated) VALUES (?, ?, ?, ?, ?)",
			is.user, is.cert, "CODE"+strconv.Itoa(i), i%2, is.time)
	}
}
