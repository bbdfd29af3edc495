package faults

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

// engines are the two database engines every database fault runs on.
var engines = []string{"mysql", "postgres"}

// tempDSN creates an empty database for the test on the engine of dialect and returns a DSN
// for it and an open handle (not read-only); the database is dropped when the test ends.
func tempDSN(t *testing.T, dialect string) (string, *sql.DB) {
	t.Helper()
	return ztest.Database(t, dialect)
}

// openDB opens a pool that is closed when the test ends (clean-ups run last in, first out,
// so a pool opened after a database is created is closed before the database is dropped).
func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// adminDB opens a connection pool to the engine's test server, outside the test's database,
// for killing sessions and looking at them.
func adminDB(t *testing.T, dialect string) *sql.DB {
	t.Helper()
	if dialect == "mysql" {
		cfg, err := mysql.ParseDSN(ztest.Require(t, "MZ_MYSQL_DSN")["MZ_MYSQL_DSN"])
		if err != nil {
			t.Fatal(err)
		}
		cfg.DBName = ""
		return openDB(t, "mysql", cfg.FormatDSN())
	}
	return openDB(t, "pgx", ztest.Require(t, "MZ_PG_DSN")["MZ_PG_DSN"])
}

// loadFixture fills db with the tiny synthetic Moodle site of seed, tables prefixed mdl_.
func loadFixture(t *testing.T, db *sql.DB, dialect string, seed int64, now time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := fixture.Generate(seed, fixture.Tiny, now).Load(ctx, db, dialect, "mdl_"); err != nil {
		t.Fatalf("load the %s fixture: %v", dialect, err)
	}
}

// writeFile writes a file of the test (mode 0600) and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// logBuffer collects log lines (safe for concurrent use) and copies them to the test log.
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLogger returns a logger writing to the test log and to the returned buffer.
func newLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{t: t}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})), buf
}

// figures logs the test's figures on one line in the fixed format that docs/reliability.md
// collects: "FIGURES fault=NAME key=value ...".
func figures(t *testing.T, fault string, kv ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "FIGURES fault=%s", fault)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
}
