package custom_test

import (
	"context"
	"database/sql"
	"log/slog"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/custom"
)

// activityFile declares two scalar measures sharing one query and a grouped one behind a
// discovery rule, over the standard log of the synthetic site.
const activityFile = `template: Moodle custom
discoveries:
  - key: moodle.custom.activecourses
    name: Courses with logged activity
    description: Courses with events in the standard log during the month.
    family: monthly
    sql: |
      SELECT l.courseid AS courseid, COUNT(DISTINCT l.userid) AS people
        FROM {logstore_standard_log} l
       WHERE l.timecreated >= ? AND l.timecreated < ? AND l.courseid > 1
       GROUP BY l.courseid
    args: [from, to]
    macros: [{macro: "{#COURSEID}", column: courseid}]
    people: people
measures:
  - key: moodle.custom.logevents
    name: Logged events
    description: Events written to the standard log during the month.
    family: monthly
    units: events
    aggregate: sum
    sql: &month SELECT COUNT(*) AS events, COUNT(DISTINCT userid) AS people FROM {logstore_standard_log} WHERE timecreated >= ? AND timecreated < ?
    args: [from, to]
    column: events
    graph: Logged activity
    dashboard: true
  - key: moodle.custom.logpeople
    name: Logged users
    description: Distinct users with an event in the standard log during the month.
    family: monthly
    units: users
    aggregate: sum
    sql: *month
    args: [from, to]
    column: people
    graph: Logged activity
  - key: moodle.custom.courseevents[{#COURSEID}]
    name: Logged events in course {#COURSEID}
    description: Events of one course written to the standard log during the month.
    family: monthly
    units: events
    discovery: moodle.custom.activecourses
    sql: |
      SELECT l.courseid AS courseid, COUNT(*) AS value
        FROM {logstore_standard_log} l
       WHERE l.timecreated >= ? AND l.timecreated < ?
       GROUP BY l.courseid
    args: [from, to]
`

// The monthly window at now (May 2026 in Paris), written out.
var (
	paris      = mustLoc("Europe/Paris")
	now        = time.Date(2026, 6, 1, 0, 5, 0, 0, paris)
	monthStart = time.Date(2026, 5, 1, 0, 0, 0, 0, paris).Unix()
	monthEnd   = time.Date(2026, 6, 1, 0, 0, 0, 0, paris).Unix()
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// TestCustomMeasuresOnEngines runs the file on SQLite, MariaDB and PostgreSQL and compares
// every value with what plain Go computes from the fixture model.
func TestCustomMeasuresOnEngines(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := fixture.OpenSQLiteMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		checkEngine(t, db, measures.SQLite)
	})
	t.Run("mariadb", func(t *testing.T) { checkEngine(t, ztest.MySQL(t), measures.MySQL) })
	t.Run("postgres", func(t *testing.T) { checkEngine(t, ztest.Postgres(t), measures.Postgres) })
}

func checkEngine(t *testing.T, db *sql.DB, d measures.Dialect) {
	ctx := context.Background()
	m := fixture.Generate(20260601, fixture.Tiny, now)
	if err := m.Load(ctx, db, string(d), "mdl_"); err != nil {
		t.Fatal(err)
	}
	// Expected values, in Go.
	events := 0
	users := map[int64]bool{}
	courseEvents := map[int64]int{}
	coursePeople := map[int64]map[int64]bool{}
	for _, l := range m.Logs {
		if l.TimeCreated < monthStart || l.TimeCreated >= monthEnd {
			continue
		}
		events++
		users[l.UserID] = true
		courseEvents[l.CourseID]++
		if l.CourseID > 1 {
			if coursePeople[l.CourseID] == nil {
				coursePeople[l.CourseID] = map[int64]bool{}
			}
			coursePeople[l.CourseID][l.UserID] = true
		}
	}
	// A k-threshold that keeps the busiest courses and leaves the others out.
	var counts []int
	for _, p := range coursePeople {
		counts = append(counts, len(p))
	}
	sort.Ints(counts)
	if len(counts) < 2 || counts[0] == counts[len(counts)-1] {
		t.Fatalf("the fixture's May has courses with %v distinct users: the k-threshold cannot be seen at work", counts)
	}
	k := counts[len(counts)/2]
	if k == counts[0] {
		k++
	}
	want := map[string]string{
		"moodle.custom.logevents": strconv.Itoa(events),
		"moodle.custom.logpeople": strconv.Itoa(len(users)),
	}
	kept := 0
	for c, p := range coursePeople {
		if len(p) >= k {
			want["moodle.custom.courseevents["+strconv.FormatInt(c, 10)+"]"] = strconv.Itoa(courseEvents[c])
			kept++
		}
	}
	if kept == 0 || kept == len(coursePeople) || events == 0 {
		t.Fatalf("k=%d keeps %d of %d courses, %d events: the test cannot tell right from wrong", k, kept, len(coursePeople), events)
	}

	f, err := custom.Parse("activity.yaml", []byte(activityFile))
	if err != nil {
		t.Fatal(err)
	}
	reg := measures.NewRegistry()
	if err := custom.Register(reg, []*custom.File{f}); err != nil {
		t.Fatal(err)
	}
	r := &measures.Runner{Registry: reg, Logger: slog.New(slog.DiscardHandler)}
	site := &measures.Site{Name: "t", Host: "t", DB: db, Dialect: d, Prefix: "mdl_", Location: paris, KThreshold: k,
		StatementTimeout: 20 * time.Second, MeasureTimeout: 25 * time.Second}
	b := r.Run(ctx, site, measures.Monthly, now)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	lld := 0
	for _, v := range b.Values {
		if v.Discovery {
			lld++
			continue
		}
		got[v.Key] = v.Value
		if v.Clock.Unix() != monthEnd-1 {
			t.Errorf("%s stamped %v, want the month's last second", v.Key, v.Clock)
		}
	}
	if lld != 1 {
		t.Errorf("%d discovery values, want 1", lld)
	}
	if len(got) != len(want) {
		t.Errorf("got %d values %v, want %d %v", len(got), got, len(want), want)
	}
	for key, w := range want {
		if got[key] != w {
			t.Errorf("%s = %q, want %s", key, got[key], w)
		}
	}
}
