package measures_test

import (
	"context"
	"database/sql"
	"strings"
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
			ids := func(reuse bool) map[string]bool {
				site := &measures.Site{Name: "t", Host: "t", DB: db, Dialect: tc.d, Prefix: "mdl_", StatementTimeout: 5 * time.Second, ReuseSessions: reuse}
				seen := map[string]bool{}
				for range 4 {
					v := sessionValues(t, site, tc.idSQL, "id", "ro")
					seen[v["id"]] = true
					if v["ro"] != tc.readOnly {
						t.Errorf("session read-only = %s, want %s", v["ro"], tc.readOnly)
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

// TestPreparedSessions: a pool from OpenPool hands out connections that are read-only and
// time-limited from the start, and a burst with SessionsPrepared leaves its connection's set-up
// alone (a setting changed on the pooled connection is still there after the burst: no
// statement was sent to set it again), where a burst without it sets the session up again.
func TestPreparedSessions(t *testing.T) {
	for _, tc := range []struct {
		d        measures.Dialect
		stateSQL string // the session's read-only flag and statement limit in milliseconds
		limitSQL string // sets the statement limit of the session to 1234 ms
		writeSQL string // a write the session must refuse
	}{
		{measures.MySQL, "SELECT @@session.tx_read_only AS ro, ROUND(@@session.max_statement_time * 1000) AS lim",
			"SET SESSION max_statement_time = 1.234", "INSERT INTO mdl_nothing VALUES (1)"},
		{measures.Postgres, "SELECT CASE WHEN current_setting('default_transaction_read_only') = 'on' THEN 1 ELSE 0 END AS ro, CAST(current_setting('statement_timeout', true) AS VARCHAR) AS lim",
			"SET statement_timeout = 1234", "CREATE TABLE mdl_nothing (id INT)"},
	} {
		t.Run(string(tc.d), func(t *testing.T) {
			dsn, _ := ztest.Database(t, string(tc.d))
			db, prepared, err := measures.OpenPool(tc.d, dsn, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if !prepared {
				t.Fatalf("OpenPool(%s) prepared = false", tc.d)
			}
			db.SetMaxOpenConns(1)
			db.SetMaxIdleConns(1)
			ctx := context.Background()
			state := func(prepared bool) (ro, limit string) {
				site := &measures.Site{Name: "t", Host: "t", DB: db, Dialect: tc.d, Prefix: "mdl_", StatementTimeout: 5 * time.Second,
					ReuseSessions: true, SessionsPrepared: prepared}
				v := sessionValues(t, site, tc.stateSQL, "ro", "lim")
				return v["ro"], v["lim"]
			}
			if ro, limit := state(true); ro != "1" || limit != "5000" && limit != "5s" {
				t.Errorf("a new connection of the pool: read-only %s, statement limit %s; want 1 and 5000 ms", ro, limit)
			}
			if _, err := db.ExecContext(ctx, tc.writeSQL); err == nil || !strings.Contains(strings.ToLower(err.Error()), "read") {
				t.Errorf("a write through the pool: %v, want a read-only refusal", err)
			}
			if _, err := db.ExecContext(ctx, tc.limitSQL); err != nil {
				t.Fatal(err)
			}
			if _, limit := state(true); limit != "1234" && limit != "1234ms" {
				t.Errorf("with SessionsPrepared, the burst saw a statement limit of %s, want the pooled connection's 1234 ms (set up again?)", limit)
			}
			if _, limit := state(false); limit != "5000" && limit != "5s" {
				t.Errorf("without SessionsPrepared, the burst saw a statement limit of %s, want 5000 ms (set up again)", limit)
			}
		})
	}
}

// sessionValues runs one instant burst on site whose measures read the columns cols of the
// statement query (one measure per column) and returns each column's value.
func sessionValues(t *testing.T, site *measures.Site, query string, cols ...string) map[string]string {
	t.Helper()
	reg := measures.NewRegistry()
	q := &measures.Query{Name: "session", SQL: query}
	for _, c := range cols {
		reg.MustRegister(measures.Measure{Key: "moodle.t." + c, Name: "Session " + c, Description: "A property of the session.",
			Family: measures.Instant, Type: measures.Text, Query: q, Column: c})
	}
	b := (&measures.Runner{Registry: reg}).Run(context.Background(), site, measures.Instant, time.Now())
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range b.Values {
		out[strings.TrimPrefix(v.Key, "moodle.t.")] = v.Value
	}
	return out
}

// TestOneRoundTripStatements: on MariaDB a pool from OpenPool sends a statement with arguments
// in one message, with the arguments written in: the server prepares nothing
// (Com_stmt_prepare does not move). A DSN that sets interpolateParams=false keeps its
// prepared statements.
func TestOneRoundTripStatements(t *testing.T) {
	dsn, _ := ztest.Database(t, "mysql")
	sep := "?"
	if strings.Contains(dsn[strings.LastIndex(dsn, "/"):], "?") {
		sep = "&"
	}
	for _, tc := range []struct {
		dsn      string
		prepares int
	}{{dsn, 0}, {dsn + sep + "interpolateParams=false", 1}} {
		db, _, err := measures.OpenPool(measures.MySQL, tc.dsn, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		prepared := func() int {
			var name string
			var n int
			if err := conn.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Com_stmt_prepare'").Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := prepared()
		var sum int
		if err := conn.QueryRowContext(ctx, "SELECT ? + 1", 41).Scan(&sum); err != nil || sum != 42 {
			t.Fatalf("SELECT ? + 1 with 41: %d, %v", sum, err)
		}
		if n := prepared() - before; n != tc.prepares {
			t.Errorf("DSN %s: the server prepared %d statements for one query with an argument, want %d", tc.dsn, n, tc.prepares)
		}
		conn.Close()
		db.Close()
	}
}
