package ztest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// recordingTB stands in for a test so that Require's Skip and Fatal can be
// observed; both stop the calling goroutine like the real ones.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runRequire(vars ...string) (*recordingTB, map[string]string) {
	r := &recordingTB{}
	var got map[string]string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = Require(r, vars...)
	}()
	<-done
	return r, got
}

func TestRequire(t *testing.T) {
	t.Setenv("MZ_TEST_PRESENT", "value")
	t.Setenv("MZ_TEST_ABSENT", "")
	tests := []struct {
		name        string
		require     string
		vars        []string
		wantSkip    bool
		wantFail    bool
		wantMissing string
	}{
		{"all present", "1", []string{"MZ_TEST_PRESENT"}, false, false, ""},
		{"missing skips", "", []string{"MZ_TEST_PRESENT", "MZ_TEST_ABSENT"}, true, false, "MZ_TEST_ABSENT"},
		{"missing skips unless 1", "0", []string{"MZ_TEST_ABSENT"}, true, false, "MZ_TEST_ABSENT"},
		{"missing fails when required", "1", []string{"MZ_TEST_ABSENT"}, false, true, "MZ_TEST_ABSENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireVar, tt.require)
			r, got := runRequire(tt.vars...)
			if r.skipped != tt.wantSkip || r.failed != tt.wantFail {
				t.Fatalf("skipped=%v failed=%v, want %v %v (%s)", r.skipped, r.failed, tt.wantSkip, tt.wantFail, r.msg)
			}
			if tt.wantMissing != "" {
				if !strings.Contains(r.msg, tt.wantMissing) || !strings.Contains(r.msg, "make test") {
					t.Fatalf("message %q should name %s and say how to run", r.msg, tt.wantMissing)
				}
				return
			}
			if got["MZ_TEST_PRESENT"] != "value" {
				t.Fatalf("values = %v", got)
			}
		})
	}
}

func TestUniqueNameAndDBName(t *testing.T) {
	seen := map[string]bool{}
	valid := regexp.MustCompile(`^host-[0-9a-f]{12}$`)
	for range 100 {
		n := UniqueName("host")
		if !valid.MatchString(n) || seen[n] {
			t.Fatalf("UniqueName = %q (seen before: %v)", n, seen[n])
		}
		seen[n] = true
	}
}

func TestFileRWLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	a, b := newFileRWLock(path), newFileRWLock(path)
	probe, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	try := func(how int) error {
		err := syscall.Flock(int(probe.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			_ = syscall.Flock(int(probe.Fd()), syscall.LOCK_UN)
		}
		return err
	}

	// Two readers in one process share one hold; another process may read
	// but not write.
	if err := a.rlock(); err != nil {
		t.Fatal(err)
	}
	if err := a.rlock(); err != nil {
		t.Fatal(err)
	}
	if err := try(syscall.LOCK_SH); err != nil {
		t.Fatalf("shared probe during reads: %v", err)
	}
	if err := try(syscall.LOCK_EX); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("exclusive probe during reads = %v, want EWOULDBLOCK", err)
	}
	a.runlock()
	if err := try(syscall.LOCK_EX); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("exclusive probe with one reader left = %v, want EWOULDBLOCK", err)
	}

	// A writer elsewhere (b) waits for the last reader of a.
	acquired := make(chan error)
	go func() { acquired <- b.lock() }()
	a.runlock()
	if err := <-acquired; err != nil {
		t.Fatal(err)
	}
	if err := try(syscall.LOCK_SH); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("shared probe during write = %v, want EWOULDBLOCK", err)
	}
	b.unlock()
	if err := try(syscall.LOCK_EX); err != nil {
		t.Fatalf("exclusive probe after all released: %v", err)
	}
}

func TestMySQLDatabasesAreSeparate(t *testing.T) {
	Require(t, "MZ_MYSQL_DSN")
	testSeparateDatabases(t, MySQL, "SELECT DATABASE()",
		"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?")
}

func TestPostgresDatabasesAreSeparate(t *testing.T) {
	Require(t, "MZ_PG_DSN")
	testSeparateDatabases(t, Postgres, "SELECT current_database()",
		"SELECT COUNT(*) FROM pg_database WHERE datname = $1")
}

// testSeparateDatabases checks that two databases from open are distinct
// and that each is gone after its test.
func testSeparateDatabases(t *testing.T, open func(testing.TB) *sql.DB, currentQuery, existsQuery string) {
	ctx := context.Background()
	var names []string
	for i := range 2 {
		t.Run(fmt.Sprint("db", i), func(t *testing.T) {
			db := open(t)
			var name string
			if err := db.QueryRowContext(ctx, currentQuery).Scan(&name); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
			if _, err := db.ExecContext(ctx, "CREATE TABLE mz_probe (id INT)"); err != nil {
				t.Fatalf("second database is not empty, or no rights: %v", err)
			}
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("database names = %v", names)
	}
	t.Run("check", func(t *testing.T) {
		survivor := open(t)
		for _, name := range names {
			var n int
			if err := survivor.QueryRowContext(ctx, existsQuery, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("database %s still exists after its test", name)
			}
		}
	})
}
