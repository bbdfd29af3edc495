package faults

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// probe is one measure of a test registry: its query, in both dialects.
type probe struct {
	name     string // the query name; the key is moodle.fault.<name>
	mysql    string
	postgres string
}

// probeRegistry registers one instant unsigned measure per probe, in order (the runner runs
// them in that order).
func probeRegistry(t *testing.T, probes ...probe) *measures.Registry {
	t.Helper()
	reg := measures.NewRegistry()
	for _, p := range probes {
		q := &measures.Query{Name: "fault." + p.name, SQL: p.mysql,
			Dialects: map[measures.Dialect]string{measures.MySQL: p.mysql, measures.Postgres: p.postgres}}
		m := measures.Measure{Key: "moodle.fault." + p.name, Name: "Fault probe " + p.name,
			Description: "A probe of the fault tests.", Family: measures.Instant, Type: measures.Unsigned,
			Query: q, Column: "n"}
		if err := reg.Register(m); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// site returns a measured site on db.
func site(db *sql.DB, dialect string) *measures.Site {
	d := measures.MySQL
	if dialect == "postgres" {
		d = measures.Postgres
	}
	return &measures.Site{Name: "fault-" + dialect, Host: "mz-fault", DB: db, Dialect: d, Prefix: "mdl_", Location: time.UTC}
}

// values maps a burst's keys to values.
func values(b *measures.Burst) map[string]string {
	out := map[string]string{}
	for _, v := range b.Values {
		out[v.Key] = v.Value
	}
	return out
}

// connectionID is the query that returns the session's server-side id.
var connectionID = probe{mysql: "SELECT CONNECTION_ID() AS n", postgres: "SELECT pg_backend_pid() AS n"}

func named(p probe, name string) probe { p.name = name; return p }

// TestConnectionKilledMidBurst kills the burst's database connection from an admin session
// while one measure runs (KILL on MariaDB, pg_terminate_backend on PostgreSQL). Only that
// measure fails, its error names it, and the measures after it succeed on a new connection.
func TestConnectionKilledMidBurst(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			_, db := tempDSN(t, engine)
			admin := adminDB(t, engine)
			tag := strings.ReplaceAll(ztest.UniqueName("mzkill"), "-", "_")
			reg := probeRegistry(t,
				named(connectionID, "before"),
				probe{name: "sleep",
					mysql:    "SELECT SLEEP(3) AS n, '" + tag + "' AS tag",
					postgres: "SELECT 1 AS n, '" + tag + "' AS tag FROM pg_sleep(3)"},
				named(connectionID, "after"),
				probe{name: "constant", mysql: "SELECT 42 AS n", postgres: "SELECT 42 AS n"},
			)
			// Find the session running the sleep (not this lookup, which names the tag too).
			find := map[string]string{
				"mysql": "SELECT id FROM information_schema.processlist WHERE info LIKE '%" + tag +
					"%' AND id <> CONNECTION_ID()",
				"postgres": "SELECT pid FROM pg_stat_activity WHERE query LIKE '%" + tag +
					"%' AND pid <> pg_backend_pid()",
			}[engine]
			kill := map[string]string{"mysql": "KILL %d", "postgres": "SELECT pg_terminate_backend(%d)"}[engine]

			log, _ := newLogger(t)
			runner := &measures.Runner{Registry: reg, Logger: log}
			done := make(chan *measures.Burst, 1)
			go func() { done <- runner.Run(context.Background(), site(db, engine), measures.Instant, time.Now()) }()
			var victim int64
			ztest.WaitFor(t, func() bool {
				return admin.QueryRow(find).Scan(&victim) == nil
			}, 30*time.Second)
			if _, err := admin.Exec(fmt.Sprintf(kill, victim)); err != nil {
				t.Fatalf("kill session %d: %v", victim, err)
			}
			var b *measures.Burst
			select {
			case b = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("the burst did not end after its connection was killed")
			}

			vals := values(b)
			if len(b.Failures) != 1 || b.Failures[0].Query != "fault.sleep" ||
				len(b.Failures[0].Keys) != 1 || b.Failures[0].Keys[0] != "moodle.fault.sleep" {
				t.Fatalf("failures = %v, want only fault.sleep", b.Failures)
			}
			msg := b.Failures[0].Error()
			if !strings.Contains(msg, "fault.sleep") || !strings.Contains(msg, "moodle.fault.sleep") {
				t.Errorf("the failure does not name the measure: %s", msg)
			}
			if vals["moodle.fault.before"] != fmt.Sprint(victim) {
				t.Errorf("killed session %d, but the burst ran on session %s", victim, vals["moodle.fault.before"])
			}
			after := vals["moodle.fault.after"]
			if after == "" || after == fmt.Sprint(victim) {
				t.Errorf("the measure after the kill ran on session %q, want a new session (killed %d)", after, victim)
			}
			if vals["moodle.fault.constant"] != "42" {
				t.Errorf("moodle.fault.constant = %q, want 42", vals["moodle.fault.constant"])
			}
			t.Logf("killed session %d; failure: %s; next measures on session %s", victim, msg, after)
			figures(t, "db-connection-killed", "engine", engine, "kills", 1, "measures", 4,
				"failed", b.FailedKeys(), "succeeded", len(b.Values), "reconnected", after != fmt.Sprint(victim))
		})
	}
}

// TestSlowMeasureTimeout runs a measure that sleeps 5 s between two quick ones, with a 1 s
// measure timeout: once with a 500 ms server-side statement limit (MariaDB
// max_statement_time, PostgreSQL statement_timeout), which must be what stops it, and once
// without, where the client-side timeout stops it. Only the slow measure fails, with a
// timeout message, and the burst ends well before the sleep would have.
func TestSlowMeasureTimeout(t *testing.T) {
	for _, engine := range engines {
		_, db := tempDSN(t, engine)
		for _, tc := range []struct {
			limit    string
			stmt     time.Duration
			wantText string
		}{
			{"server", 500 * time.Millisecond, map[string]string{"mysql": "max_statement_time", "postgres": "statement timeout"}[engine]},
			{"client", 0, "timed out after 1s"},
		} {
			t.Run(engine+"/"+tc.limit, func(t *testing.T) {
				reg := probeRegistry(t,
					probe{name: "quick", mysql: "SELECT 1 AS n", postgres: "SELECT 1 AS n"},
					probe{name: "slow", mysql: "SELECT SLEEP(5) AS n", postgres: "SELECT 1 AS n FROM pg_sleep(5)"},
					probe{name: "later", mysql: "SELECT 2 AS n", postgres: "SELECT 2 AS n"},
				)
				s := site(db, engine)
				s.MeasureTimeout, s.StatementTimeout = time.Second, tc.stmt
				log, _ := newLogger(t)
				started := time.Now()
				b := (&measures.Runner{Registry: reg, Logger: log}).Run(context.Background(), s, measures.Instant, time.Now())
				took := time.Since(started)
				if len(b.Failures) != 1 || b.Failures[0].Query != "fault.slow" {
					t.Fatalf("failures = %v, want only fault.slow", b.Failures)
				}
				msg := b.Failures[0].Error()
				if !strings.Contains(msg, tc.wantText) {
					t.Errorf("failure %q does not say %q", msg, tc.wantText)
				}
				vals := values(b)
				if vals["moodle.fault.quick"] != "1" || vals["moodle.fault.later"] != "2" {
					t.Errorf("values = %v, want quick=1 and later=2", vals)
				}
				// A correctness bound, not a speed check: the 5 s sleep must have been cut.
				if took >= 4500*time.Millisecond {
					t.Errorf("the burst took %v: the slow measure was not cut", took)
				}
				t.Logf("slow measure: %s (burst %v)", msg, took.Round(time.Millisecond))
				figures(t, "slow-measure", "engine", engine, "limit", tc.limit, "measures", 3,
					"failed", b.FailedKeys(), "succeeded", len(b.Values), "cut", took < 4500*time.Millisecond)
			})
		}
	}
}

// TestReadOnlySession runs measures that try to write to the Moodle database: each fails with
// the engine's read-only error and the table is unchanged.
func TestReadOnlySession(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			dsn, db := tempDSN(t, engine)
			for _, stmt := range []string{"CREATE TABLE mdl_fault_ro (id INT)", "INSERT INTO mdl_fault_ro (id) VALUES (7)"} {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			writes := []probe{
				{name: "insert", mysql: "INSERT INTO {fault_ro} (id) VALUES (1)"},
				{name: "update", mysql: "UPDATE {fault_ro} SET id = 8"},
				{name: "delete", mysql: "DELETE FROM {fault_ro}"},
				{name: "create", mysql: "CREATE TABLE {fault_ro2} (id INT)"},
				{name: "drop", mysql: "DROP TABLE {fault_ro}"},
			}
			for i := range writes {
				writes[i].postgres = writes[i].mysql
			}
			reg := probeRegistry(t, append(writes, probe{name: "read", mysql: "SELECT COUNT(*) AS n FROM {fault_ro}",
				postgres: "SELECT COUNT(*) AS n FROM {fault_ro}"})...)
			// The program's pools set each connection up when they open it (OpenPool); a pool
			// of other code has each burst set its session up. Both must refuse every write.
			for _, pooled := range []bool{false, true} {
				s := site(db, engine)
				way := "per-burst"
				if pooled {
					pool, prepared, err := measures.OpenPool(s.Dialect, dsn, 0)
					if err != nil || !prepared {
						t.Fatalf("OpenPool: prepared %v, err %v", prepared, err)
					}
					defer pool.Close()
					s.DB, s.SessionsPrepared, s.ReuseSessions, way = pool, true, true, "pooled"
				}
				log, _ := newLogger(t)
				b := (&measures.Runner{Registry: reg, Logger: log}).Run(context.Background(), s, measures.Instant, time.Now())
				want := map[string]string{"mysql": "READ ONLY transaction", "postgres": "read-only transaction"}[engine]
				failed := map[string]string{}
				for _, f := range b.Failures {
					failed[f.Query] = f.Error()
				}
				refused := 0
				for _, w := range writes {
					msg, ok := failed["fault."+w.name]
					switch {
					case !ok:
						t.Errorf("%s: the write succeeded in the measuring session (%s set-up)", w.name, way)
					case !strings.Contains(msg, want):
						t.Errorf("%s: failed, but not as read-only (%s set-up): %s", w.name, way, msg)
					default:
						refused++
					}
				}
				if v := values(b)["moodle.fault.read"]; v != "1" {
					t.Errorf("the read measure after the writes (%s set-up) = %q, want 1 (the table is unchanged)", way, v)
				}
				var id int
				if err := db.QueryRow("SELECT id FROM mdl_fault_ro").Scan(&id); err != nil || id != 7 {
					t.Errorf("table after the burst (%s set-up): id=%d, err %v; want the one row 7", way, id, err)
				}
				figures(t, "write-attempt", "engine", engine, "session", way, "writes", len(writes), "refused", refused, "changed", len(writes)-refused)
			}
		})
	}
}
