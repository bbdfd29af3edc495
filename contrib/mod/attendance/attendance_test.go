package attendance_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/contrib/contribtest"
	"github.com/moodle-zabbix/moodle-zabbix/contrib/mod/attendance"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The daily window, written out rather than computed by the code under test.
var (
	dayStart = time.Date(2026, 5, 31, 0, 0, 0, 0, contribtest.Location).Unix()
	dayEnd   = time.Date(2026, 6, 1, 0, 0, 0, 0, contribtest.Location).Unix()
)

// The plugin's tables the measures read, with the columns of its db/install.xml.
var (
	sessionsTable = contribtest.Table{Name: "attendance_sessions", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "attendanceid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "groupid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "sessdate", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "duration", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "lasttaken", Type: contribtest.TypeInt, Length: 10},
		{Name: "lasttakenby", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "timemodified", Type: contribtest.TypeInt, Length: 10},
		{Name: "description", Type: contribtest.TypeText, NotNull: true},
		{Name: "descriptionformat", Type: contribtest.TypeInt, Length: 2, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "studentscanmark", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "autoassignstatus", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "studentpassword", Type: contribtest.TypeChar, Length: 50, HasDefault: true, Default: ""},
		{Name: "subnet", Type: contribtest.TypeChar, Length: 255},
		{Name: "automark", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "automarkcompleted", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "statusset", Type: contribtest.TypeInt, Length: 5, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "absenteereport", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "1"},
		{Name: "preventsharedip", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "1"},
		{Name: "preventsharediptime", Type: contribtest.TypeInt, Length: 10},
		{Name: "caleventid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "calendarevent", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "1"},
		{Name: "includeqrcode", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{
		{Name: "attendanceid", Fields: []string{"attendanceid"}},
		{Name: "groupid", Fields: []string{"groupid"}},
		{Name: "sessdate", Fields: []string{"sessdate"}},
		{Name: "caleventid", Fields: []string{"caleventid"}},
	}}

	logTable = contribtest.Table{Name: "attendance_log", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "sessionid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "studentid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "statusid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "statusset", Type: contribtest.TypeChar, Length: 1333},
		{Name: "timetaken", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "takenby", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "remarks", Type: contribtest.TypeChar, Length: 255},
		{Name: "ipaddress", Type: contribtest.TypeChar, Length: 45},
	}, Indexes: []contribtest.Index{
		{Name: "sessionid", Fields: []string{"sessionid"}},
		{Name: "studentid", Fields: []string{"studentid"}},
		{Name: "statusid", Fields: []string{"statusid"}},
	}}

	statusesTable = contribtest.Table{Name: "attendance_statuses", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "attendanceid", Type: contribtest.TypeInt, Length: 10, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "acronym", Type: contribtest.TypeChar, Length: 2, NotNull: true},
		{Name: "description", Type: contribtest.TypeChar, Length: 30, NotNull: true},
		{Name: "grade", Type: contribtest.TypeNumber, Length: 5, Decimals: 2, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "studentavailability", Type: contribtest.TypeInt, Length: 10},
		{Name: "setunmarked", Type: contribtest.TypeInt, Length: 2},
		{Name: "visible", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "1"},
		{Name: "deleted", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "setnumber", Type: contribtest.TypeInt, Length: 5, NotNull: true, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{
		{Name: "attendanceid", Fields: []string{"attendanceid"}},
		{Name: "visible", Fields: []string{"visible"}},
		{Name: "deleted", Fields: []string{"deleted"}},
	}}
)

type status struct {
	id, activity int64
	acronym      string
	grade        float64
	set          int
	deleted      bool
}

type session struct {
	id, activity int64
	date         int64
	taken        int64 // lasttaken; -1 for NULL
	set          int
}

type mark struct{ session, student, status int64 }

type site struct {
	statuses []status
	sessions []session
	marks    []mark
}

func newSite(m *contribtest.Site) site {
	u := func(i int) int64 { return m.Users[2+i%(len(m.Users)-2)].ID }
	s := site{
		statuses: []status{
			// Activity 1, the default set, and a second set graded out of 1.
			{1, 1, "P", 2, 0, false}, {2, 1, "L", 1, 0, false}, {3, 1, "E", 1, 0, false}, {4, 1, "A", 0, 0, false},
			{5, 1, "Y", 1, 1, false}, {6, 1, "N", 0, 1, false},
			// Activity 2, whose former top status was deleted: Pr now carries the highest grade.
			{7, 2, "X", 3, 0, true}, {8, 2, "Pr", 2, 0, false}, {9, 2, "A", 0, 0, false},
		},
		sessions: []session{
			{1, 1, dayStart + 3600, dayStart + 4000, 0},
			{2, 1, dayStart + 7200, dayStart + 8000, 1},
			{3, 2, dayEnd - 1, dayEnd + 60, 0}, // taken after the day, before collection
			{4, 1, dayStart + 10000, -1, 0},    // not taken
			{5, 2, dayStart, 0, 0},             // not taken
			{6, 1, dayStart - 1, dayStart - 1, 0},
			{7, 1, dayEnd, dayEnd + 30, 0},
			{8, 2, dayStart + 50000, dayStart + 50100, 0},
		},
	}
	add := func(session int64, statuses ...int64) {
		for i, st := range statuses {
			s.marks = append(s.marks, mark{session, u(int(session) + i), st})
		}
	}
	add(1, 1, 2, 4, 1)
	add(2, 5, 6, 5)
	add(3, 8, 9, 8, 8, 7)
	add(6, 1, 1, 1)
	add(7, 1, 4)
	add(8, 8, 8)
	return s
}

// want computes the expected values from the rows, in Go.
func (s site) want() map[string]string {
	top := map[[2]int64]float64{} // activity, set -> highest grade of the statuses not deleted
	byID := map[int64]status{}
	for _, st := range s.statuses {
		byID[st.id] = st
		k := [2]int64{st.activity, int64(st.set)}
		if !st.deleted && st.grade > top[k] {
			top[k] = st.grade
		}
	}
	inDay := map[int64]bool{}
	sessions, taken := 0, 0
	for _, se := range s.sessions {
		if se.date >= dayStart && se.date < dayEnd {
			inDay[se.id] = true
			sessions++
			if se.taken > 0 {
				taken++
			}
		}
	}
	marks, present := 0, 0
	students := map[int64]bool{}
	for _, mk := range s.marks {
		if !inDay[mk.session] {
			continue
		}
		marks++
		students[mk.student] = true
		st := byID[mk.status]
		if st.grade == top[[2]int64{st.activity, int64(st.set)}] {
			present++
		}
	}
	ratio := math.Round(100*float64(present)/float64(marks)*1e6) / 1e6
	return map[string]string{
		"moodle.attendance.sessions":     strconv.Itoa(sessions),
		"moodle.attendance.taken":        strconv.Itoa(taken),
		"moodle.attendance.untaken":      strconv.Itoa(sessions - taken),
		"moodle.attendance.marks":        strconv.Itoa(marks),
		"moodle.attendance.students":     strconv.Itoa(len(students)),
		"moodle.attendance.presentratio": strconv.FormatFloat(ratio, 'f', -1, 64),
	}
}

// TestPack checks the pack on SQLite, MariaDB and PostgreSQL: skipped without the plugin,
// exact values with it.
func TestPack(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: attendance.Register, Component: attendance.Component, Family: measures.Daily,
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
	db.CreateTables(t, sessionsTable, logTable, statusesTable)
	db.InstallPlugin(t, attendance.Component, "2023020104")
	for _, st := range s.statuses {
		db.Exec(t, `INSERT INTO {attendance_statuses} (id, attendanceid, acronym, description, grade, setnumber, deleted)
       VALUES (?, ?, ?, ?, ?, ?, ?)`, st.id, st.activity, st.acronym, "Status "+st.acronym, st.grade, st.set, map[bool]int{false: 0, true: 1}[st.deleted])
	}
	for _, se := range s.sessions {
		var taken any = se.taken
		if se.taken < 0 {
			taken = nil
		}
		db.Exec(t, `INSERT INTO {attendance_sessions} (id, attendanceid, sessdate, duration, lasttaken, description, statusset)
       VALUES (?, ?, ?, ?, ?, ?, ?)`, se.id, se.activity, se.date, 3600, taken, "", se.set)
	}
	for _, mk := range s.marks {
		db.Exec(t, `INSERT INTO {attendance_log} (sessionid, studentid, statusid, timetaken, takenby, remarks)
       VALUES (?, ?, ?, ?, ?, ?)`, mk.session, mk.student, mk.status, dayStart, 2, "")
	}
}
