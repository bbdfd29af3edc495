package catalogue_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// fixtureNow is when the fixture site is generated: Monday 1 June 2026, 00:05 in Paris, which
// is at once a day, ISO-week and month boundary.
var fixtureNow = time.Date(2026, 6, 1, 0, 5, 0, 0, mustLoc("Europe/Paris"))

const fixtureSeed = 20260601

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// runClock is one run of every family at a fixed time in a time zone.
type runClock struct {
	name string
	now  time.Time
	loc  *time.Location
}

func runClocks() []runClock {
	paris := mustLoc("Europe/Paris")
	return []runClock{
		{"boundary-paris", fixtureNow, paris},
		{"boundary-utc", fixtureNow, time.UTC},
		{"midweek-paris", fixtureNow.Add(2*24*time.Hour + 14*time.Hour + 37*time.Minute), paris},
	}
}

// coursesOfInterest is what the test sites select for targeted collection.
var coursesOfInterest = measures.CourseSelection{IDs: []int64{3}, IDNumbers: []string{fixture.PhysicsIDNumber}}

func TestCatalogueOnSQLite(t *testing.T) {
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	requireNonZero(t, first(checkCatalogue(t, db, db, false, measures.SQLite)))
}

func TestCatalogueOnMariaDB(t *testing.T) {
	load, read, prepared := programPool(t, measures.MySQL)
	requireNonZero(t, first(checkCatalogue(t, load, read, prepared, measures.MySQL)))
}

func TestCatalogueOnPostgres(t *testing.T) {
	load, read, prepared := programPool(t, measures.Postgres)
	requireNonZero(t, first(checkCatalogue(t, load, read, prepared, measures.Postgres)))
}

// programPool makes a new test database of dialect and returns a handle that can write, to load
// the fixture, and the pool the program itself would read the site through (measures.OpenPool:
// read-only sessions set up once, and on MariaDB statements sent with their arguments written
// in), so that the values are checked as the program reads them.
func programPool(t *testing.T, d measures.Dialect) (load, read *sql.DB, prepared bool) {
	t.Helper()
	dsn, load := ztest.Database(t, string(d))
	read, prepared, err := measures.OpenPool(d, dsn, time.Minute)
	if err != nil {
		t.Fatalf("open the %s pool: %v", d, err)
	}
	t.Cleanup(func() { read.Close() })
	return load, read, prepared
}

// TestEveryMeasureHasAnExpectation keeps the drivers honest: a new measure must come with its
// independent computation.
func TestEveryMeasureHasAnExpectation(t *testing.T) {
	reg := catalogue.Registry()
	for _, m := range reg.Measures() {
		if expectations[m.Key] == nil {
			t.Errorf("measure %s has no expectation in catalogue/expect_*_test.go", m.Key)
		}
	}
	for _, d := range reg.Discoveries() {
		if expectations[d.Key] == nil {
			t.Errorf("discovery %s has no expectation", d.Key)
		}
	}
	known := map[string]bool{}
	for _, m := range reg.Measures() {
		known[m.Key] = true
	}
	for _, d := range reg.Discoveries() {
		known[d.Key] = true
	}
	for k := range expectations {
		if !known[k] {
			t.Errorf("expectation for %s, which is not a registered measure", k)
		}
	}
}

// checkCatalogue loads the fixture into db, runs every family at every run clock, compares each
// value with its expectation and returns every value sent, by "clock/family/key", and the keys
// whose expectation is an estimate range (Between): sizes on disk and row estimates, which
// differ from engine to engine.
func checkCatalogue(t *testing.T, load, read *sql.DB, prepared bool, dialect measures.Dialect) (sent map[string]string, estimates map[string]bool) {
	ctx := context.Background()
	sent, estimates = map[string]string{}, map[string]bool{}
	model := fixture.Generate(fixtureSeed, fixture.Tiny, fixtureNow, fixture.WithAdvancedPerfs())
	if err := model.Load(ctx, load, string(dialect), "mdl_"); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	reg := catalogue.Registry()
	runner := &measures.Runner{Registry: reg, Logger: testLogger(t)}
	for _, rc := range runClocks() {
		site := &measures.Site{
			Name: "fixture", Host: "fixture", DB: read, Dialect: dialect, Prefix: "mdl_",
			ReuseSessions: true, SessionsPrepared: prepared,
			Location: rc.loc, Courses: coursesOfInterest, Previous: previousRun, Caps: testCaps,
		}
		for _, fam := range measures.Families {
			t.Run(rc.name+"/"+fam.String(), func(t *testing.T) {
				b := runner.Run(ctx, site, fam, rc.now)
				for _, f := range b.Failures {
					t.Errorf("failure: %v", f)
				}
				x := &X{M: model, P: measures.Params{Window: b.Window, Now: rc.now, Roles: measures.DefaultRoles(), Courses: coursesOfInterest},
					From: b.Window.From.Unix(), To: b.Window.To.Unix(), Now: rc.now.Unix()}
				compareBurst(t, reg, fam, b, x)
				for _, v := range b.Values {
					if m := reg.Lookup(v.Key); m != nil && expectations[m.Key] != nil {
						if _, estimate := expectations[m.Key](x).(Between); estimate {
							estimates[rc.name+"/"+fam.String()+"/"+v.Key] = true
						}
					}
					sent[rc.name+"/"+fam.String()+"/"+v.Key] = v.Value
				}
			})
		}
	}
	return sent, estimates
}

func compareBurst(t *testing.T, reg *measures.Registry, fam measures.Family, b *measures.Burst, x *X) {
	t.Helper()
	got := map[string]string{}
	for _, v := range b.Values {
		if _, dup := got[v.Key]; dup {
			t.Errorf("key %s sent twice", v.Key)
		}
		got[v.Key] = v.Value
		if !v.Clock.Equal(b.Window.Clock()) {
			t.Errorf("key %s clock %s, want the window's end %s", v.Key, v.Clock, b.Window.Clock())
		}
	}
	skipped := map[string]bool{}
	for _, s := range b.Skipped {
		skipped[s.Key] = true
	}
	for _, d := range reg.Discoveries() {
		if d.Family != fam || expectations[d.Key] == nil {
			continue
		}
		want, _ := expectations[d.Key](x).(LLD)
		var gotLLD []map[string]string
		if err := json.Unmarshal([]byte(got[d.Key]), &gotLLD); err != nil {
			t.Errorf("discovery %s: value %q is not LLD JSON: %v", d.Key, got[d.Key], err)
			continue
		}
		if len(gotLLD) == 0 {
			gotLLD = nil
		}
		if len(want) == 0 {
			want = nil
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(gotLLD)
		if string(wj) != string(gj) {
			t.Errorf("discovery %s:\n got %s\nwant %s", d.Key, gj, wj)
		}
	}
	for _, m := range reg.Family(fam) {
		f := expectations[m.Key]
		if f == nil {
			continue // reported by TestEveryMeasureHasAnExpectation
		}
		want := f(x)
		if _, ok := want.(Skipped); ok {
			if !skipped[m.Key] {
				t.Errorf("measure %s: want skipped, got %q", m.Key, got[m.Key])
			}
			continue
		}
		if skipped[m.Key] {
			t.Errorf("measure %s: skipped, want a value", m.Key)
			continue
		}
		if m.Discovery == nil {
			compareValue(t, m, m.Key, got, want)
			continue
		}
		per, ok := want.(PerEntity)
		if !ok {
			t.Errorf("measure %s: a prototype's expectation must return PerEntity, got %T", m.Key, want)
			continue
		}
		macro := m.Discovery.IDMacro().Macro
		ids := make([]string, 0, len(per))
		for id := range per {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		wantKeys := map[string]bool{}
		for _, id := range ids {
			key := strings.ReplaceAll(m.Key, macro, id)
			wantKeys[key] = true
			compareValue(t, m, key, got, per[id])
		}
		prefix := m.Key[:strings.Index(m.Key, macro)]
		for k := range got {
			if strings.HasPrefix(k, prefix) && !wantKeys[k] && matchesPrototype(m.Key, macro, k) {
				t.Errorf("measure %s: unexpected entity key %s", m.Key, k)
			}
		}
	}
}

func matchesPrototype(proto, macro, key string) bool {
	i := strings.Index(proto, macro)
	pre, post := proto[:i], proto[i+len(macro):]
	return strings.HasPrefix(key, pre) && strings.HasSuffix(key, post) && len(key) > len(pre)+len(post)
}

func compareValue(t *testing.T, m *measures.Measure, key string, got map[string]string, want any) {
	t.Helper()
	g, ok := got[key]
	if !ok {
		t.Errorf("measure %s: no value sent", key)
		return
	}
	if b, ok := want.(Between); ok {
		gf, err := strconv.ParseFloat(g, 64)
		if err != nil || gf < b.Min || gf > b.Max {
			t.Errorf("measure %s = %s, want between %v and %v", key, g, b.Min, b.Max)
		}
		return
	}
	w, err := measures.FormatValue(m.Type, want)
	if err != nil {
		t.Errorf("measure %s: expectation %v: %v", key, want, err)
		return
	}
	if g != w {
		t.Errorf("measure %s = %q, want %q", key, g, w)
	}
}

// testLogger sends the runner's log lines to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// first returns the first of two results.
func first[A, B any](a A, _ B) A { return a }
