package app

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// TestMemoKeptBetweenRuns: an instant run keeps its per-minute web counts in a private file of
// the state directory, which the next run (a new process under cron) reads back; a dry run
// records nothing, not even that file.
func TestMemoKeptBetweenRuns(t *testing.T) {
	now := time.Now()
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")
	memoPath := filepath.Join(filepath.Dir(cfg), "spool", "state", "main.memo.json")

	if code, out, errs := runCLI(t, "run", "--family", "instant", "--dry-run", "--config", cfg); code != ExitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(memoPath); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote %s (%v)", memoPath, err)
	}
	if code, out, errs := runCLI(t, "run", "--family", "instant", "--config", cfg); code != ExitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	st, err := os.Stat(memoPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("memo file mode %v, want 0600", st.Mode().Perm())
	}
	var memo map[string][]struct {
		Start, N, CountedFor int64
	}
	raw, _ := os.ReadFile(memoPath)
	if err := json.Unmarshal(raw, &memo); err != nil {
		t.Fatalf("memo file: %v\n%s", err, raw)
	}
	minutes := memo["general.web.minutes"]
	if len(minutes) != 60 {
		t.Fatalf("memo keeps %d minutes, want the hour's 60:\n%s", len(minutes), raw)
	}

	// A new process reads it back: the memo's minutes are what it stores again.
	m := &memoFile{path: memoPath, log: testLogger(t)}
	if got := m.Load("general.web.minutes"); !strings.Contains(string(raw), string(got)) || len(got) == 0 {
		t.Fatalf("memo read back as %q", got)
	}
}

// TestMemoFileForgetsWhatItCannotRead: an unreadable file is forgotten (the next burst counts
// everything), and a file that cannot be written costs one warning, the memo still serving the
// process from memory.
func TestMemoFileForgetsWhatItCannotRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "site.memo.json")
	if err := os.WriteFile(path, []byte("{torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &memoFile{path: path, log: testLogger(t)}
	if got := m.Load("x"); got != nil {
		t.Fatalf("torn memo gave %q", got)
	}
	m.Store("x", []byte(`[1]`))
	if got := (&memoFile{path: path, log: testLogger(t)}).Load("x"); string(got) != "[1]" {
		t.Fatalf("read back %q", got)
	}

	var logs strings.Builder
	blocked := &memoFile{path: filepath.Join(path, "below-a-file", "m.json"), log: slog.New(slog.NewTextHandler(&logs, nil))}
	blocked.Store("x", []byte(`[2]`))
	blocked.Store("x", []byte(`[3]`))
	if got := blocked.Load("x"); string(got) != "[3]" {
		t.Fatalf("in-memory memo gave %q", got)
	}
	if n := strings.Count(logs.String(), "cannot keep the counts"); n != 1 {
		t.Errorf("%d warnings for an unwritable memo, want 1:\n%s", n, logs.String())
	}
}
