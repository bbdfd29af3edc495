package core_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/core"
)

// configVersion is a Querier that answers the version query with a fixed config.version row
// (none when version is empty) and records what it was asked.
type configVersion struct {
	version string
	err     error
	asked   []string
}

func (c *configVersion) Query(_ context.Context, sql string, args ...any) ([]measures.Row, error) {
	c.asked = append(c.asked, sql)
	if c.err != nil {
		return nil, c.err
	}
	if len(args) != 1 || args[0] != "version" || !strings.Contains(sql, "{config}") {
		return nil, errors.New("unexpected query")
	}
	if c.version == "" {
		return nil, nil
	}
	return []measures.Row{{"value": c.version}}, nil
}

func lookup(t *testing.T, key string) *measures.Measure {
	t.Helper()
	m := measures.Default.Lookup(key)
	if m == nil {
		t.Fatalf("measure %s is not registered", key)
	}
	return m
}

func writeVersionPHP(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "version.php"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const versionPHP = `<?php
defined('MOODLE_INTERNAL') || die();

$version  = 2024100700.02;              // 20241007      = branch date
                                        //         RR    = release increments
$release  = '4.5.2 (Build: 20250210)';  // Human-friendly version name
$branch   = '405';                      // This version's branch.
$maturity = MATURITY_STABLE;            // This version's maturity level.
`

func TestUpgradePending(t *testing.T) {
	for _, key := range []string{"moodle.general.upgradespending", "moodle.general.hourlyneedsupgrading"} {
		m := lookup(t, key)
		tests := []struct {
			name, code, db string
			want           any
			wantErr        bool
		}{
			{name: "same version", code: versionPHP, db: "2024100700.02", want: int64(0)},
			{name: "same version written differently", code: versionPHP, db: "2024100700.020", want: int64(0)},
			{name: "code newer by a point release", code: versionPHP, db: "2024100700.01", want: int64(1)},
			{name: "code newer by a branch", code: versionPHP, db: "2023100900.00", want: int64(1)},
			{name: "database newer (downgraded code)", code: versionPHP, db: "2024100700.03", want: int64(0)},
			{name: "integer versions", code: "<?php\n$version = 2025041400;\n", db: "2025041399", want: int64(1)},
			{name: "no version in the database", code: versionPHP, db: "", want: int64(1)},
			{name: "no $version in the code", code: "<?php\n$release = '4.5';\n", db: "2024100700.02", wantErr: true},
			{name: "commented-out assignment is not a version", code: "<?php\n// $version = 1;\n", db: "1", wantErr: true},
			{name: "garbage in the database", code: versionPHP, db: "x", wantErr: true},
		}
		for _, tc := range tests {
			t.Run(key+"/"+tc.name, func(t *testing.T) {
				dir := writeVersionPHP(t, tc.code)
				q := &configVersion{version: tc.db}
				rows, err := m.Query.Compute(context.Background(), q, measures.Params{Dirroot: dir})
				if tc.wantErr {
					if err == nil {
						t.Fatalf("want an error, got %v", rows)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 1 || rows[0][m.Column] != tc.want {
					t.Fatalf("got %v, want %s = %v", rows, m.Column, tc.want)
				}
			})
		}
	}
}

func TestUpgradePendingErrors(t *testing.T) {
	m := lookup(t, "moodle.general.upgradespending")
	if _, err := m.Query.Compute(context.Background(), &configVersion{version: "1"}, measures.Params{Dirroot: t.TempDir()}); err == nil {
		t.Error("missing version.php: want an error")
	}
	dir := writeVersionPHP(t, versionPHP)
	boom := errors.New("connection refused")
	if _, err := m.Query.Compute(context.Background(), &configVersion{err: boom}, measures.Params{Dirroot: dir}); !errors.Is(err, boom) {
		t.Errorf("database failure: got %v, want it wrapped", err)
	}
}

func TestSkipsWithoutDirectories(t *testing.T) {
	for _, key := range []string{"moodle.general.upgradespending", "moodle.general.hourlyneedsupgrading", "moodle.general.backupsinprogress"} {
		q := lookup(t, key).Query
		if q.Skip == nil || q.Skip(measures.Params{}) == "" {
			t.Errorf("%s: want a skip reason when no directory is configured", key)
		}
		if q.Skip(measures.Params{Dirroot: "/srv/moodle", Dataroot: "/srv/moodledata"}) != "" {
			t.Errorf("%s: skipped although the directories are configured", key)
		}
	}
}

func TestBackupsInProgress(t *testing.T) {
	m := lookup(t, "moodle.general.backupsinprogress")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	stale := now.Add(-core.BackupStaleAfter - time.Hour)
	fresh := now.Add(-time.Hour)

	run := func(t *testing.T, dataroot string) (any, error) {
		t.Helper()
		rows, err := m.Query.Compute(context.Background(), nil, measures.Params{Dataroot: dataroot, Now: now})
		if err != nil {
			return nil, err
		}
		if len(rows) != 1 {
			t.Fatalf("got %d rows, want 1", len(rows))
		}
		return rows[0][m.Column], nil
	}
	touch := func(t *testing.T, path string, at time.Time) {
		t.Helper()
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(t *testing.T, path string) {
		t.Helper()
		if err := os.MkdirAll(path, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("no backup directory", func(t *testing.T) {
		got, err := run(t, t.TempDir())
		if err != nil || got != int64(0) {
			t.Fatalf("got %v, %v; want 0", got, err)
		}
	})
	t.Run("missing dataroot", func(t *testing.T) {
		if _, err := run(t, filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Fatal("want an error for a dataroot that does not exist")
		}
	})
	t.Run("fresh, stale and revived directories", func(t *testing.T) {
		root := t.TempDir()
		base := filepath.Join(root, "temp", "backup")
		// Two working directories in use: one touched itself, one only through a direct entry.
		mkdir(t, filepath.Join(base, "aaaa"))
		touch(t, filepath.Join(base, "aaaa"), fresh)
		mkdir(t, filepath.Join(base, "bbbb"))
		if err := os.WriteFile(filepath.Join(base, "bbbb", "moodle_backup.xml"), []byte("<x/>"), 0o644); err != nil {
			t.Fatal(err)
		}
		touch(t, filepath.Join(base, "bbbb", "moodle_backup.xml"), fresh)
		touch(t, filepath.Join(base, "bbbb"), stale)
		// A leftover of a failed backup: everything stale.
		mkdir(t, filepath.Join(base, "cccc", "activities"))
		touch(t, filepath.Join(base, "cccc", "activities"), stale)
		touch(t, filepath.Join(base, "cccc"), stale)
		// A plain file (a log) is not a backup.
		if err := os.WriteFile(filepath.Join(base, "dddd.log"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := run(t, root)
		if err != nil || got != int64(2) {
			t.Fatalf("got %v, %v; want 2", got, err)
		}
	})
}
