package ztest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// MySQL returns a connection to a new, empty MariaDB/MySQL database (utf8mb4) that only this
// test uses; it is dropped when the test ends. The server comes from MZ_MYSQL_DSN.
func MySQL(t testing.TB) *sql.DB {
	t.Helper()
	_, db := Database(t, "mysql")
	return db
}

// Postgres returns a connection (driver "pgx") to a new, empty PostgreSQL database that only
// this test uses; it is dropped when the test ends. The server comes from MZ_PG_DSN.
func Postgres(t testing.TB) *sql.DB {
	t.Helper()
	_, db := Database(t, "postgres")
	return db
}

// Database creates a new, empty database on the test server of dialect ("mysql" or
// "postgres") and returns its DSN, for a configuration file, and an open handle; the handle is
// closed and the database dropped when the test ends.
func Database(t testing.TB, dialect string) (string, *sql.DB) {
	t.Helper()
	envVar, driver := "MZ_MYSQL_DSN", "mysql"
	if dialect == "postgres" {
		envVar, driver = "MZ_PG_DSN", "pgx"
	}
	admin := Require(t, envVar)[envVar]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, drop, err := fixture.CreateTempDatabase(ctx, dialect, admin)
	if err != nil {
		t.Fatalf("ztest: %v", err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		_ = drop()
		t.Fatalf("ztest: open the %s test database: %v", dialect, err)
	}
	t.Cleanup(func() {
		db.Close()
		if err := drop(); err != nil {
			t.Errorf("ztest: %v", err)
		}
	})
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("ztest: %s test database: %v", dialect, err)
	}
	return dsn, db
}
