// Package contribtest checks a contrib measure pack against real databases: the core synthetic
// Moodle site is loaded, the pack runs once without its plugin (every key must be skipped, none
// may fail), then the test installs the plugin's tables and rows and every value is compared
// with what the test computed from those rows.
//
// Its exported API names only its own types, the standard library's and package measures', so
// that a pack in another Go module can use it (that module cannot import this one's internal
// packages).
package contribtest

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Prefix is the table prefix of the test sites.
const Prefix = "mdl_"

// Location is the test sites' time zone.
var Location = mustLoc("Europe/Paris")

// Now is when the families run: Monday 1 June 2026, 00:05 in Paris, so the daily window is
// Sunday 31 May, the weekly one the week before and the monthly one May.
var Now = time.Date(2026, 6, 1, 0, 5, 0, 0, Location)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Pack describes the pack under test.
type Pack struct {
	// Register adds the pack's measures to a registry.
	Register func(*measures.Registry)
	// Component is the plugin the pack needs (for example "mod_customcert").
	Component string
	// Family is the family whose values are checked.
	Family measures.Family
	// Install creates the plugin's tables, its config_plugins version row and the test rows
	// on top of the core site, and returns the expected value of every key of Family.
	Install func(t *testing.T, db *DB, site *Site) map[string]string
}

// DB runs Moodle-style SQL ({table}, ?) on a test database.
type DB struct {
	SQL     *sql.DB
	Dialect measures.Dialect
}

// Exec runs one statement and fails the test on error.
func (db *DB) Exec(t *testing.T, query string, args ...any) {
	t.Helper()
	q, flat, err := db.Dialect.Expand(query, Prefix, args)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(context.Background(), q, flat...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// CreateTables creates tables in the database's dialect.
func (db *DB) CreateTables(t *testing.T, tables ...Table) {
	t.Helper()
	for _, tb := range tables {
		stmts, err := fixture.TableDDL(string(db.Dialect), Prefix, tb.fixture())
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range stmts {
			db.Exec(t, q)
		}
	}
}

// InstallPlugin writes the plugin's version row, which tells the runner it is installed.
func (db *DB) InstallPlugin(t *testing.T, component, version string) {
	t.Helper()
	db.Exec(t, "INSERT INTO {config_plugins} (plugin, name, value) VALUES (?, ?, ?)", component, "version", version)
}

// Engines checks the pack on SQLite, and on MariaDB and PostgreSQL through internal/ztest
// (skipped visibly without them, required in CI).
func Engines(t *testing.T, p Pack) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := fixture.OpenSQLiteMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		Check(t, db, measures.SQLite, p)
	})
	t.Run("mariadb", func(t *testing.T) { Check(t, ztest.MySQL(t), measures.MySQL, p) })
	t.Run("postgres", func(t *testing.T) { Check(t, ztest.Postgres(t), measures.Postgres, p) })
}

// Check loads the core site into db and checks the pack: skipped cleanly without its plugin,
// then, once Install has run, every value equal to the expectation. The expected values must
// differ from each other and from 0, so a measure reading the wrong column or window fails.
func Check(t *testing.T, db *sql.DB, d measures.Dialect, p Pack) {
	t.Helper()
	ctx := context.Background()
	m := fixture.Generate(20260601, fixture.Tiny, Now)
	if err := m.Load(ctx, db, string(d), Prefix); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	reg := measures.NewRegistry()
	p.Register(reg)
	runner := &measures.Runner{Registry: reg, Logger: slog.New(slog.DiscardHandler)}
	site := &measures.Site{Name: "test", Host: "test", DB: db, Dialect: d, Prefix: Prefix, Location: Location}
	ms := reg.Family(p.Family)
	if len(ms) == 0 {
		t.Fatalf("the pack registers no %s measure", p.Family)
	}

	b := runner.Run(ctx, site, p.Family, Now)
	if err := b.Err(); err != nil {
		t.Fatalf("failures without the plugin: %v", err)
	}
	if len(b.Values) != 0 {
		t.Errorf("values sent without the plugin: %v", b.Values)
	}
	skipped := map[string]string{}
	for _, s := range b.Skipped {
		skipped[s.Key] = s.Reason
	}
	for _, m := range ms {
		if r, ok := skipped[m.Key]; !ok || !strings.Contains(r, p.Component) {
			t.Errorf("%s: skipped=%v reason %q, want skipped because %s is absent", m.Key, ok, r, p.Component)
		}
	}

	want := p.Install(t, &DB{SQL: db, Dialect: d}, siteOf(m))
	b = runner.Run(ctx, site, p.Family, Now)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if len(b.Skipped) != 0 {
		t.Errorf("skipped with the plugin installed: %v", b.Skipped)
	}
	got := map[string]string{}
	for _, v := range b.Values {
		got[v.Key] = v.Value
	}
	if len(got) != len(want) || len(want) != len(ms) {
		t.Errorf("got %d values %v, want %d (the pack has %d %s measures)", len(got), got, len(want), len(ms), p.Family)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %s", k, got[k], w)
		}
	}
	seen := map[string]bool{}
	for _, w := range want {
		if w == "0" || seen[w] {
			t.Errorf("the test rows do not tell the measures apart: %v", want)
			break
		}
		seen[w] = true
	}
}
