package ztest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// MySQL returns a connection to a new, empty MariaDB/MySQL database
// (utf8mb4) that only this test uses; it is dropped when the test ends.
// The server comes from MZ_MYSQL_DSN.
func MySQL(t testing.TB) *sql.DB {
	t.Helper()
	env := Require(t, "MZ_MYSQL_DSN")
	cfg, err := mysql.ParseDSN(env["MZ_MYSQL_DSN"])
	if err != nil {
		t.Fatalf("ztest: MZ_MYSQL_DSN: %v", err)
	}
	name := dbName(t)
	admin := cfg.Clone()
	admin.DBName = ""
	adminExec := func(query string) error {
		db, err := sql.Open("mysql", admin.FormatDSN())
		if err != nil {
			return err
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err = db.ExecContext(ctx, query)
		return err
	}
	if err := adminExec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("ztest: create MySQL database %s: %v", name, err)
	}
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("ztest: open MySQL database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db.Close()
		if err := adminExec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Errorf("ztest: drop MySQL database %s: %v", name, err)
		}
	})
	if err := ping(db); err != nil {
		t.Fatalf("ztest: MySQL database %s: %v", name, err)
	}
	return db
}

// Postgres returns a connection (driver "pgx") to a new, empty PostgreSQL
// database that only this test uses; it is dropped when the test ends.
// The server comes from MZ_PG_DSN.
func Postgres(t testing.TB) *sql.DB {
	t.Helper()
	env := Require(t, "MZ_PG_DSN")
	cfg, err := pgx.ParseConfig(env["MZ_PG_DSN"])
	if err != nil {
		t.Fatalf("ztest: MZ_PG_DSN: %v", err)
	}
	name := dbName(t)
	adminExec := func(query string) error {
		db := stdlib.OpenDB(*cfg.Copy())
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := db.ExecContext(ctx, query)
		return err
	}
	if err := adminExec(fmt.Sprintf(`CREATE DATABASE %q`, name)); err != nil {
		t.Fatalf("ztest: create PostgreSQL database %s: %v", name, err)
	}
	own := cfg.Copy()
	own.Database = name
	db := stdlib.OpenDB(*own)
	t.Cleanup(func() {
		db.Close()
		if err := adminExec(fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name)); err != nil {
			t.Errorf("ztest: drop PostgreSQL database %s: %v", name, err)
		}
	})
	if err := ping(db); err != nil {
		t.Fatalf("ztest: PostgreSQL database %s: %v", name, err)
	}
	return db
}

func ping(db *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}
