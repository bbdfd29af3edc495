package hvp_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/contrib/contribtest"
	"github.com/moodle-zabbix/moodle-zabbix/contrib/mod/hvp"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The daily window, written out rather than computed by the code under test.
var (
	dayStart = time.Date(2026, 5, 31, 0, 0, 0, 0, contribtest.Location).Unix()
	dayEnd   = time.Date(2026, 6, 1, 0, 0, 0, 0, contribtest.Location).Unix()
)

// The plugin's tables, with the columns of its db/install.xml that the test fills.
var (
	hvpTable = contribtest.Table{Name: "hvp", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "course", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "name", Type: contribtest.TypeChar, Length: 255, NotNull: true},
		{Name: "intro", Type: contribtest.TypeText},
		{Name: "introformat", Type: contribtest.TypeInt, Length: 4, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "json_content", Type: contribtest.TypeText, NotNull: true},
		{Name: "embed_type", Type: contribtest.TypeChar, Length: 127, NotNull: true},
		{Name: "disable", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "main_library_id", Type: contribtest.TypeInt, Length: 10, NotNull: true},
		{Name: "content_type", Type: contribtest.TypeChar, Length: 127},
		{Name: "slug", Type: contribtest.TypeChar, Length: 255, NotNull: true},
		{Name: "timecreated", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "timemodified", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "completionpass", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
	}}

	librariesTable = contribtest.Table{Name: "hvp_libraries", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "machine_name", Type: contribtest.TypeChar, Length: 255, NotNull: true},
		{Name: "title", Type: contribtest.TypeChar, Length: 255, NotNull: true},
		{Name: "major_version", Type: contribtest.TypeInt, Length: 4, NotNull: true},
		{Name: "minor_version", Type: contribtest.TypeInt, Length: 4, NotNull: true},
		{Name: "patch_version", Type: contribtest.TypeInt, Length: 4, NotNull: true},
		{Name: "runnable", Type: contribtest.TypeInt, Length: 1, NotNull: true},
		{Name: "embed_types", Type: contribtest.TypeChar, Length: 255, NotNull: true},
		{Name: "semantics", Type: contribtest.TypeText, NotNull: true},
	}}
)

type library struct {
	id           int64
	name         string
	major, minor int
}

type content struct {
	course, library  int64
	created, changed int64
}

// site is what the test inserts on top of the core fixture.
type site struct {
	libraries []library
	contents  []content
}

// newSite builds contents around the window's edges in the fixture's courses.
func newSite(m *contribtest.Site) site {
	c := func(i int) int64 { return m.Courses[1+i%(len(m.Courses)-1)].ID }
	old := dayStart - 30*86400
	return site{
		libraries: []library{
			{1, "H5P.InteractiveVideo", 1, 22}, {2, "H5P.InteractiveVideo", 1, 24},
			{3, "H5P.CoursePresentation", 1, 25}, {4, "H5P.QuestionSet", 1, 20},
			{5, "H5P.DragQuestion", 1, 14}, {6, "H5P.Accordion", 1, 0}, {7, "H5P.Blanks", 1, 14},
		},
		contents: []content{
			{c(0), 1, old, old},                           // untouched
			{c(0), 2, old, dayStart},                      // updated at the day's first second
			{c(1), 2, old, dayEnd - 1},                    // updated at its last second
			{c(1), 7, old, dayEnd},                        // updated after the day
			{c(2), 6, old, dayStart - 1},                  // updated before the day
			{c(2), 99, old, old},                          // main library missing
			{c(3), 5, dayStart, dayStart + 600},           // created and edited during the day
			{c(3), 5, dayEnd - 1, dayEnd - 1},             // created at the day's last second
			{c(3), 1, dayStart - 1, dayStart + 10},        // created just before the day, then edited
			{c(4), 6, dayEnd, dayEnd},                     // created after the day: not counted
			{c(5), 4, dayEnd + 3600, dayEnd + 3600},       // same
			{c(0), 1, dayStart + 7200, dayStart + 7200},   // created during the day
			{c(1), 3, dayStart + 43200, dayStart + 50000}, // same
			{c(6), 4, dayStart - 86400, dayStart - 86400}, // the day before
		},
	}
}

// want computes the expected values from the rows, in Go.
func (s site) want() map[string]string {
	names := map[int64]string{}
	for _, l := range s.libraries {
		names[l.id] = l.name
	}
	contents, created, updated := 0, 0, 0
	courses, types := map[int64]bool{}, map[string]bool{}
	for _, c := range s.contents {
		if c.created >= dayEnd {
			continue
		}
		contents++
		courses[c.course] = true
		if n, ok := names[c.library]; ok {
			types[n] = true
		}
		if c.created >= dayStart {
			created++
		} else if c.changed >= dayStart && c.changed < dayEnd {
			updated++
		}
	}
	return map[string]string{
		"moodle.hvp.contents":     strconv.Itoa(contents),
		"moodle.hvp.created":      strconv.Itoa(created),
		"moodle.hvp.updated":      strconv.Itoa(updated),
		"moodle.hvp.courses":      strconv.Itoa(len(courses)),
		"moodle.hvp.contenttypes": strconv.Itoa(len(types)),
	}
}

// TestPack checks the pack on SQLite, MariaDB and PostgreSQL: skipped without the plugin,
// exact values with it.
func TestPack(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: hvp.Register, Component: hvp.Component, Family: measures.Daily,
		Install: func(t *testing.T, db *contribtest.DB, m *contribtest.Site) map[string]string {
			s := newSite(m)
			install(t, db, s)
			return s.want()
		},
	})
}

// install creates the plugin's tables and writes its version row and the test rows.
func install(t *testing.T, db *contribtest.DB, s site) {
	t.Helper()
	db.CreateTables(t, hvpTable, librariesTable)
	db.InstallPlugin(t, hvp.Component, "2024012900")
	for _, l := range s.libraries {
		db.Exec(t, `INSERT INTO {hvp_libraries} (id, machine_name, title, major_version, minor_version, patch_version,
       runnable, embed_types, semantics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			l.id, l.name, l.name, l.major, l.minor, 0, 1, "iframe", "[]")
	}
	for i, c := range s.contents {
		name := "Content " + strconv.Itoa(i+1)
		db.Exec(t, `INSERT INTO {hvp} (course, name, json_content, embed_type, main_library_id, slug, timecreated,
       timemodified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.course, name, "{}", "div", c.library, "content-"+strconv.Itoa(i+1), c.created, c.changed)
	}
}
