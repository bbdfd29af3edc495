package app

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// testSite loads the synthetic site into an SQLite file and returns its DSN.
func testSite(t *testing.T, now time.Time) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "moodle.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := fixture.Generate(7, fixture.Tiny, now).Load(context.Background(), db, "sqlite", "mdl_"); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeConfig(t *testing.T, server, dsn, extra string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  timeout: 2s
  spool:
    dir: %s
%s
sites:
  - name: main
    host: moodle-main
    driver: sqlite
    dsn: "%s"
    timezone: Europe/Paris
`, server, filepath.Join(dir, "spool"), extra, dsn)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunSendsAndRecordsState(t *testing.T) {
	now := time.Now()
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")

	code, out, errs := runCLI(t, "run", "--family", "daily", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if out != "" || errs != "" {
		t.Errorf("a successful run printed something (cron would mail it):\n%s%s", out, errs)
	}
	items := trapper.Items()
	if len(items) < 50 {
		t.Fatalf("trapper received %d values, want the whole daily family", len(items))
	}
	// The self-monitoring values describe this very run and leave with it.
	self := map[string]string{}
	for _, it := range items {
		if it.Host != "moodle-main" || it.Clock == 0 {
			t.Fatalf("item %+v: wrong host or no clock", it)
		}
		if strings.HasPrefix(it.Key, "moodle.self.") {
			self[it.Key] = it.Value
			if d := now.Unix() - it.Clock; d > 60 || d < -60 {
				t.Errorf("%s stamped %d, not at the run (%d)", it.Key, it.Clock, now.Unix())
			}
		}
	}
	if want := fmt.Sprint(len(items) - len(self)); self["moodle.self.sent[daily]"] != want {
		t.Errorf("moodle.self.sent[daily] = %q in the same run, want %s", self["moodle.self.sent[daily]"], want)
	}
	if last := self["moodle.self.lastsuccess[daily]"]; last == "" || last == "0" {
		t.Errorf("moodle.self.lastsuccess[daily] = %q right after a successful run, want its time", last)
	}
	// The state file is private.
	statePath := filepath.Join(filepath.Dir(cfg), "spool", "state", "main.json")
	st, err := os.Stat(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", st.Mode().Perm())
	}
	if d, _ := os.Stat(filepath.Dir(statePath)); d.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", d.Mode().Perm())
	}
	// A rerun of the same period sends nothing of the period again, only its own report.
	code, out, errs = runCLI(t, "run", "--family", "daily", "--config", cfg)
	if code != ExitOK || out != "" || errs != "" {
		t.Fatalf("second run exit %d\n%s%s", code, out, errs)
	}
	for _, it := range trapper.Items()[len(items):] {
		if !strings.HasPrefix(it.Key, "moodle.self.") {
			t.Errorf("%s sent again for the same period", it.Key)
		}
		if it.Key == "moodle.self.sent[daily]" && it.Value != "0" {
			t.Errorf("moodle.self.sent[daily] = %s for a run that sent nothing", it.Value)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	now := time.Now()
	dsn := testSite(t, now)

	t.Run("zabbix refuses some values: 2", func(t *testing.T) {
		trapper := sendertest.NewServer(func(req sendertest.Request) sendertest.Reply { return sendertest.Reply{Failed: 1} })
		defer trapper.Close()
		code, out, _ := runCLI(t, "run", "--family", "hourly", "--config", writeConfig(t, trapper.Addr, dsn, ""))
		if code != ExitSomeFail {
			t.Errorf("exit %d, want 2\n%s", code, out)
		}
	})
	t.Run("bad config: 1 with file and line", func(t *testing.T) {
		cfg := writeConfig(t, "127.0.0.1:1", dsn, "  colour: blue")
		code, _, errs := runCLI(t, "run", "--family", "hourly", "--config", cfg)
		if code != ExitFailure || !strings.Contains(errs, "config.yaml:") || !strings.Contains(errs, "colour") {
			t.Errorf("exit %d, stderr %q: want 1 naming the file, line and key", code, errs)
		}
	})
	t.Run("unknown family: 1", func(t *testing.T) {
		code, _, errs := runCLI(t, "run", "--family", "yearly", "--config", "x")
		if code != ExitFailure || !strings.Contains(errs, "yearly") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("missing table: 2 and the measure is named", func(t *testing.T) {
		db, _ := sql.Open("sqlite", dsn)
		if _, err := db.Exec("ALTER TABLE mdl_forum_posts RENAME TO mdl_forum_posts_gone"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_, _ = db.Exec("ALTER TABLE mdl_forum_posts_gone RENAME TO mdl_forum_posts")
			db.Close()
		}()
		trapper := sendertest.NewServer(nil)
		defer trapper.Close()
		code, _, errs := runCLI(t, "run", "--family", "instant", "--config", writeConfig(t, trapper.Addr, dsn, ""))
		if code != ExitSomeFail || !strings.Contains(errs, "moodle.forum.posts") || !strings.Contains(errs, "mdl_forum_posts") {
			t.Errorf("exit %d, want 2 naming the key and the table on standard error:\n%s", code, errs)
		}
		if len(trapper.Items()) == 0 {
			t.Error("the other instant measures were not sent")
		}
	})
	t.Run("unknown disabled measure: 1", func(t *testing.T) {
		cfg := writeConfig(t, "127.0.0.1:1", dsn, "")
		data, _ := os.ReadFile(cfg)
		data = append(data, []byte("    disabled_measures: [moodle.nope]\n")...)
		_ = os.WriteFile(cfg, data, 0o600)
		code, _, errs := runCLI(t, "run", "--family", "hourly", "--config", cfg)
		if code != ExitFailure || !strings.Contains(errs, "moodle.nope") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}

// TestRunSpoolsWhileZabbixIsDown: values that cannot be delivered are kept with their clocks
// and delivered exactly once by the next run, before its own values.
func TestRunSpoolsWhileZabbixIsDown(t *testing.T) {
	now := time.Now()
	var down atomic.Bool
	down.Store(true)
	trapper := sendertest.NewServer(func(req sendertest.Request) sendertest.Reply {
		if down.Load() {
			return sendertest.Reply{Refuse: true, NoRecord: true}
		}
		return sendertest.Reply{}
	})
	defer trapper.Close()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")

	code, out, errs := runCLI(t, "run", "--family", "hourly", "--config", cfg)
	if code != ExitFailure || !strings.Contains(errs, "spooled") || strings.Contains(errs, "sent") {
		t.Fatalf("with Zabbix down: exit %d, want 1 and values spooled, none called sent\n%s%s", code, out, errs)
	}
	if n := len(trapper.Items()); n != 0 {
		t.Fatalf("%d values recorded while down", n)
	}
	down.Store(false)
	code, out, _ = runCLI(t, "run", "--family", "daily", "-v", "--config", cfg)
	if code != ExitOK || !strings.Contains(out, "replayed") {
		t.Fatalf("after recovery: exit %d\n%s", code, out)
	}
	seen := map[string]int{}
	hourly := 0
	for _, it := range trapper.Items() {
		seen[fmt.Sprintf("%s@%d", it.Key, it.Clock)]++
		if it.Key == "moodle.users.active" {
			hourly++
			if it.Clock%3600 != 3599 {
				t.Errorf("replayed hourly value has clock %d, not its hour's last second", it.Clock)
			}
		}
	}
	if hourly != 1 {
		t.Errorf("moodle.users.active delivered %d times, want exactly once", hourly)
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	// Order: the replayed hourly values come before the daily run's own values.
	items := trapper.Items()
	if items[0].Clock%3600 != 3599 || items[len(items)-1].Clock%86400 == items[0].Clock%86400 {
		t.Errorf("replay did not come first: first %s@%d, last %s@%d", items[0].Key, items[0].Clock, items[len(items)-1].Key, items[len(items)-1].Clock)
	}
}

func TestRunSenderFileOutput(t *testing.T) {
	now := time.Now()
	out := filepath.Join(t.TempDir(), "values.txt")
	cfg := writeConfig(t, "127.0.0.1:10051", testSite(t, now), "  output: sender-file:"+out)
	code, stdout, errs := runCLI(t, "run", "--family", "hourly", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"moodle-main" "moodle.users.active" `) {
		t.Errorf("sender input file lacks the values:\n%s", data)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("output file mode %v", st.Mode().Perm())
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	now := time.Now()
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")
	code, out, _ := runCLI(t, "run", "--family", "weekly", "--dry-run", "--config", cfg)
	if code != ExitOK || !strings.Contains(out, "dry run") || !strings.Contains(out, "moodle.quiz.weeklyattempts") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if n := len(trapper.Items()); n != 0 {
		t.Errorf("dry run sent %d values", n)
	}
}

// TestSecretsNeverPrinted: a DSN with a password never reaches the output or the log, even
// when the database refuses the connection.
func TestSecretsNeverPrinted(t *testing.T) {
	const password = "s3cr3t-Pa55word"
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
  api: {url: "http://127.0.0.1:1/api_jsonrpc.php", username: Admin, password: "env:MZ_TEST_API_PASSWORD"}
sites:
  - name: main
    host: moodle-main
    driver: mysql
    dsn: "moodle:%s@tcp(127.0.0.1:1)/moodle"
`, trapper.Addr, filepath.Join(dir, "spool"), password)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MZ_TEST_API_PASSWORD", password+"-api")
	for _, args := range [][]string{
		{"run", "--family", "daily", "--config", cfgPath},
		{"check", "--config", cfgPath},
		{"install", "--config", cfgPath},
	} {
		code, out, errs := runCLI(t, args...)
		if code == ExitOK {
			t.Errorf("%v succeeded against unreachable servers", args)
		}
		if strings.Contains(out+errs, password) {
			t.Errorf("%v printed the password:\n%s\n%s", args, out, errs)
		}
	}
}

// TestReplayRefusedCountsAsFailed: spooled values that Zabbix refuses when they are replayed
// are reported, and the run exits 2, instead of passing for delivered.
func TestReplayRefusedCountsAsFailed(t *testing.T) {
	now := time.Now()
	var mode atomic.Int32 // 0 down, 1 refuse everything, 2 accept
	trapper := sendertest.NewServer(func(req sendertest.Request) sendertest.Reply {
		switch mode.Load() {
		case 0:
			return sendertest.Reply{Refuse: true, NoRecord: true}
		case 1:
			return sendertest.Reply{Failed: len(req.Data)}
		}
		return sendertest.Reply{}
	})
	defer trapper.Close()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")
	if code, out, _ := runCLI(t, "run", "--family", "weekly", "--config", cfg); code != ExitFailure {
		t.Fatalf("down: exit %d\n%s", code, out)
	}
	mode.Store(1)
	code, _, errs := runCLI(t, "run", "--family", "monthly", "--config", cfg)
	if code != ExitSomeFail || !strings.Contains(errs, "replayed from the spool") {
		t.Fatalf("replay refused: exit %d, want 2 with the refusal reported\n%s", code, errs)
	}
	mode.Store(2)
	code, out, _ := runCLI(t, "run", "--family", "monthly", "-v", "--config", cfg)
	if code != ExitOK || strings.Contains(out, "replayed") {
		t.Fatalf("refused values must not be replayed again: exit %d\n%s", code, out)
	}
}

// TestRunSenderPipe: with sender-file:- the values go to standard output in zabbix_sender's
// input format, and the report to standard error, so the two can be piped apart.
func TestRunSenderPipe(t *testing.T) {
	cfg := writeConfig(t, "127.0.0.1:10051", testSite(t, time.Now()), "  output: sender-file:-")
	code, stdout, stderr := runCLI(t, "run", "--family", "hourly", "-v", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 10 {
		t.Fatalf("standard output has %d lines, want the values:\n%s", len(lines), stdout)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `"moodle-main" "moodle.`) {
			t.Errorf("not a zabbix_sender input line: %q", l)
		}
	}
	if !strings.Contains(stderr, "main hourly") {
		t.Errorf("the report is not on standard error:\n%s", stderr)
	}
}

// openRuntime loads the configuration file at cfgPath and opens its runtime with the whole
// catalogue, closed when the test ends.
func openRuntime(t *testing.T, cfgPath string) *Runtime {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(cfg, catalogue.Registry(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}
