package measures

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+strings.ReplaceAll(t.Name(), "/", "_")+"?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, stmt := range []string{
		"CREATE TABLE t_user (id INTEGER PRIMARY KEY, auth TEXT, lastaccess INTEGER, deleted INTEGER)",
		"INSERT INTO t_user VALUES (1,'manual',100,0),(2,'manual',3590,0),(3,'ldap',3600,0),(4,'cas',3000,1),(5,'ldap',10,0)",
		"CREATE TABLE t_config_plugins (plugin TEXT, name TEXT, value TEXT)",
		"INSERT INTO t_config_plugins VALUES ('mod_forum','version','2023100900'),('mod_quiz','lastcron','1')",
		"CREATE TABLE t_config (name TEXT, value TEXT)",
		"INSERT INTO t_config VALUES ('release','4.3 (Build: 20231009)')",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return db
}

// testRegistry builds a small catalogue over the test tables: a shared query, a text value, a
// discovery rule with prototypes, a failing query, plugin-dependent queries and a slow one.
func testRegistry() *Registry {
	r := NewRegistry()
	activity := &Query{Name: "activity",
		SQL:  "SELECT COUNT(*) AS total, SUM(CASE WHEN lastaccess >= ? AND lastaccess < ? THEN 1 ELSE 0 END) AS active FROM {user} WHERE deleted = 0",
		Args: func(p Params) []any { return []any{p.From(), p.To()} }}
	auths := &Discovery{Key: "moodle.discovery.auth", Name: "Auth", Description: "Auth plugins in use.", Family: Daily,
		Query:  &Query{Name: "auths", SQL: "SELECT DISTINCT auth FROM {user} ORDER BY auth"},
		Macros: []LLDMacro{{Macro: "{#AUTH}", Column: "auth"}}}
	perAuth := &Query{Name: "per-auth", SQL: "SELECT auth, COUNT(*) AS users FROM {user} WHERE deleted = 0 GROUP BY auth"}
	r.MustRegister(
		Measure{Key: "moodle.t.total", Name: "Total", Description: "All users.", Family: Daily, Type: Unsigned, Query: activity, Column: "total"},
		Measure{Key: "moodle.t.active", Name: "Active", Description: "Users active in the window.", Family: Daily, Type: Unsigned, Query: activity, Column: "active"},
		Measure{Key: "moodle.t.release", Name: "Release", Description: "Release.", Family: Daily, Type: Text,
			Query: &Query{Name: "release", SQL: "SELECT value AS release FROM {config} WHERE name = 'release'"}, Column: "release"},
		Measure{Key: "moodle.t.users[{#AUTH}]", Name: "Users", Description: "Users per auth.", Family: Daily, Type: Unsigned,
			Query: perAuth, Column: "users", Discovery: auths},
		Measure{Key: "moodle.t.broken", Name: "Broken", Description: "Reads a missing table.", Family: Daily, Type: Unsigned,
			Query: &Query{Name: "broken", SQL: "SELECT COUNT(*) AS n FROM {missing}"}, Column: "n"},
		Measure{Key: "moodle.t.forum", Name: "Forum", Description: "Needs mod_forum.", Family: Daily, Type: Unsigned,
			Query: &Query{Name: "forum", SQL: "SELECT 7 AS n", Component: "mod_forum"}, Column: "n"},
		Measure{Key: "moodle.t.hvp", Name: "HVP", Description: "Needs mod_hvp.", Family: Daily, Type: Unsigned,
			Query: &Query{Name: "hvp", SQL: "SELECT 7 AS n FROM {hvp}", Component: "mod_hvp"}, Column: "n"},
		Measure{Key: "moodle.t.disk", Name: "Disk", Description: "Needs a dirroot.", Family: Daily, Type: Unsigned,
			Query: &Query{Name: "disk", SQL: "SELECT 1 AS n", Skip: func(p Params) string {
				if p.Dirroot == "" {
					return "no dirroot configured"
				}
				return ""
			}}, Column: "n"},
		Measure{Key: "moodle.t.slow", Name: "Slow", Description: "Never answers in time.", Family: Daily, Type: Unsigned,
			Query: &Query{Name: "slow", Timeout: 50 * time.Millisecond, Compute: func(ctx context.Context, q Querier, p Params) ([]Row, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}}, Column: "n"},
		Measure{Key: "moodle.t.hourly", Name: "Hourly", Description: "Another family.", Family: Hourly, Type: Unsigned,
			Query: &Query{Name: "hourly", SQL: "SELECT 1 AS n"}, Column: "n"},
	)
	return r
}

func TestRunnerDaily(t *testing.T) {
	db := openTestDB(t)
	site := &Site{Name: "s", Host: "h", DB: db, Dialect: SQLite, Prefix: "t_"}
	runner := &Runner{Registry: testRegistry()}
	// 1970-01-02 00:05 UTC: the daily window is [0, 86400).
	now := time.Unix(86400+300, 0)
	b := runner.Run(context.Background(), site, Daily, now)

	got := map[string]string{}
	for _, v := range b.Values {
		got[v.Key] = v.Value
		if !v.Clock.Equal(time.Unix(86399, 0)) {
			t.Errorf("%s stamped %s, want the window's last second", v.Key, v.Clock)
		}
	}
	want := map[string]string{
		"moodle.t.total":          "4",
		"moodle.t.active":         "4",
		"moodle.t.release":        "4.3 (Build: 20231009)",
		"moodle.t.users[cas]":     "0", // discovered (a deleted user has it) but no active row: zero
		"moodle.t.users[ldap]":    "2",
		"moodle.t.users[manual]":  "2",
		"moodle.t.forum":          "7",
		"moodle.discovery.auth":   `[{"{#AUTH}":"cas"},{"{#AUTH}":"ldap"},{"{#AUTH}":"manual"}]`,
		"moodle.t.hourly":         "",
		"moodle.t.hvp":            "",
		"moodle.t.broken":         "",
		"moodle.t.disk":           "",
		"moodle.t.slow":           "",
		"moodle.t.users[missing]": "",
	}
	for k, w := range want {
		g, ok := got[k]
		if w == "" {
			if ok {
				t.Errorf("%s sent %q, want nothing", k, g)
			}
			continue
		}
		if g != w {
			t.Errorf("%s = %q, want %q", k, g, w)
		}
	}
	var lld []map[string]string
	if err := json.Unmarshal([]byte(got["moodle.discovery.auth"]), &lld); err != nil || len(lld) != 3 {
		t.Errorf("LLD JSON %q: %v", got["moodle.discovery.auth"], err)
	}

	failed := map[string]string{}
	for _, f := range b.Failures {
		for _, k := range f.Keys {
			failed[k] = f.Err.Error()
		}
	}
	if len(failed) != 2 {
		t.Errorf("failures %v, want exactly broken and slow", failed)
	}
	if !strings.Contains(failed["moodle.t.broken"], "mdl_missing") && !strings.Contains(failed["moodle.t.broken"], "t_missing") {
		t.Errorf("broken failure %q should name the table", failed["moodle.t.broken"])
	}
	if !strings.Contains(failed["moodle.t.slow"], "timed out") {
		t.Errorf("slow failure %q should say it timed out", failed["moodle.t.slow"])
	}
	skipped := map[string]string{}
	for _, s := range b.Skipped {
		skipped[s.Key] = s.Reason
	}
	if !strings.Contains(skipped["moodle.t.hvp"], "mod_hvp") || !strings.Contains(skipped["moodle.t.disk"], "dirroot") {
		t.Errorf("skipped %v", skipped)
	}
	if b.FailedKeys() != 2 || b.Err() == nil || !strings.Contains(b.Err().Error(), "moodle.t.broken") {
		t.Errorf("burst error %v", b.Err())
	}
}

func TestRunnerDisabledAndReadOnly(t *testing.T) {
	db := openTestDB(t)
	r := NewRegistry()
	r.MustRegister(Measure{Key: "moodle.t.write", Name: "Write", Description: "Tries to write.", Family: Hourly, Type: Unsigned,
		Query: &Query{Name: "write", Compute: func(ctx context.Context, q Querier, p Params) ([]Row, error) {
			return q.Query(ctx, "INSERT INTO {config} VALUES ('x','y') RETURNING 1 AS n")
		}}, Column: "n"},
		Measure{Key: "moodle.t.off", Name: "Off", Description: "Disabled.", Family: Hourly, Type: Unsigned,
			Query: &Query{Name: "off", SQL: "SELECT 1 AS n"}, Column: "n"})
	site := &Site{Name: "s", DB: db, Dialect: SQLite, Prefix: "t_", Disabled: map[string]bool{"moodle.t.off": true}}
	b := (&Runner{Registry: r}).Run(context.Background(), site, Hourly, time.Unix(7200, 0))
	if len(b.Failures) != 1 || !strings.Contains(b.Failures[0].Err.Error(), "readonly") {
		t.Errorf("a write through the session must fail: %v", b.Failures)
	}
	if len(b.Skipped) != 1 || b.Skipped[0].Key != "moodle.t.off" {
		t.Errorf("skipped %v", b.Skipped)
	}
	// The connection goes back writable.
	if _, err := db.Exec("INSERT INTO t_config VALUES ('a','b')"); err != nil {
		t.Errorf("connection left read-only: %v", err)
	}
}

// TestRunnerUnreachableDatabase: when the database cannot be reached, every query fails at
// once with the connection error instead of each waiting for a timeout.
func TestRunnerUnreachableDatabase(t *testing.T) {
	db, err := sql.Open("sqlite", "file:/nonexistent-dir/x.db?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := &Site{Name: "s", DB: db, Dialect: SQLite, Prefix: "t_"}
	b := (&Runner{Registry: testRegistry()}).Run(context.Background(), site, Daily, time.Unix(86400+300, 0))
	if len(b.Values) != 0 {
		t.Errorf("values %v from an unreachable database", b.Values)
	}
	if len(b.Failures) < 5 {
		t.Fatalf("failures %v, want every query to fail", b.Failures)
	}
	for _, f := range b.Failures {
		if !strings.Contains(f.Err.Error(), "connect to the database") && f.Query != "slow" {
			t.Errorf("failure %v does not say the database is unreachable", f)
		}
	}
}
