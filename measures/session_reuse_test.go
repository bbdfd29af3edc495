package measures_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// TestReuseSessions: with ReuseSessions, consecutive bursts run on the same server connection
// (the same connection id), still read-only; without it, each burst connects again.
func TestReuseSessions(t *testing.T) {
	for _, tc := range []struct {
		d        measures.Dialect
		open     func(testing.TB) *sql.DB
		idSQL    string
		readOnly string
	}{
		{measures.MySQL, func(tb testing.TB) *sql.DB { return ztest.MySQL(tb) }, "SELECT CONNECTION_ID() AS id, @@session.tx_read_only AS ro", "1"},
		{measures.Postgres, func(tb testing.TB) *sql.DB { return ztest.Postgres(tb) }, "SELECT pg_backend_pid() AS id, CASE WHEN current_setting('default_transaction_read_only') = 'on' THEN 1 ELSE 0 END AS ro", "1"},
	} {
		t.Run(string(tc.d), func(t *testing.T) {
			db := tc.open(t)
			db.SetMaxOpenConns(2)
			db.SetMaxIdleConns(1)
			reg := measures.NewRegistry()
			q := &measures.Query{Name: "conn", SQL: tc.idSQL}
			reg.MustRegister(
				measures.Measure{Key: "moodle.t.conn", Name: "Conn", Description: "Connection id.", Family: measures.Instant, Type: measures.Unsigned, Query: q, Column: "id"},
				measures.Measure{Key: "moodle.t.ro", Name: "RO", Description: "Read-only session.", Family: measures.Instant, Type: measures.Unsigned, Query: q, Column: "ro"},
			)
			runner := &measures.Runner{Registry: reg}
			ids := func(reuse bool) map[string]bool {
				site := &measures.Site{Name: "t", Host: "t", DB: db, Dialect: tc.d, Prefix: "mdl_", StatementTimeout: 5 * time.Second, ReuseSessions: reuse}
				seen := map[string]bool{}
				for range 4 {
					b := runner.Run(context.Background(), site, measures.Instant, time.Now())
					if err := b.Err(); err != nil {
						t.Fatal(err)
					}
					for _, v := range b.Values {
						switch v.Key {
						case "moodle.t.conn":
							seen[v.Value] = true
						case "moodle.t.ro":
							if v.Value != tc.readOnly {
								t.Errorf("session read-only = %s, want %s", v.Value, tc.readOnly)
							}
						}
					}
				}
				return seen
			}
			if n := len(ids(true)); n != 1 {
				t.Errorf("with ReuseSessions, 4 bursts used %d connections, want 1", n)
			}
			if n := len(ids(false)); n != 4 {
				t.Errorf("without ReuseSessions, 4 bursts used %d connections, want 4", n)
			}
		})
	}
}
