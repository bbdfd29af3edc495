package app

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// TestRunOneLinePerError: a database that refuses the connection fails every measure with
// the same error; standard error carries it once, and a successful run prints nothing.
func TestRunOneLinePerError(t *testing.T) {
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
sites:
  - {name: main, host: moodle-main, driver: mysql, dsn: "moodle:pw@tcp(127.0.0.1:1)/moodle?timeout=1s"}
`, trapper.Addr, filepath.Join(dir, "spool"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, fam := range []string{"instant", "daily"} {
		code, out, errs := runCLI(t, "run", "--family", fam, "--config", cfgPath)
		if code != ExitFailure {
			t.Errorf("%s: exit %d, want 1", fam, code)
		}
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "database unreachable") || !strings.Contains(lines[0], "connect to the database") {
			t.Errorf("%s: %d lines on standard error, want one naming the connection failure:\n%s", fam, len(lines), errs)
		}
		if out != "" {
			t.Errorf("%s: standard output %q, want nothing", fam, out)
		}
	}
	// The self-monitoring values leave with the failed run, so its problem shows at once.
	failed := ""
	for _, it := range trapper.Items() {
		if it.Key == "moodle.self.measuresfailed[daily]" {
			failed = it.Value
		}
		if it.Key == "moodle.general.instance" {
			t.Error("heartbeat sent although the database was unreachable")
		}
	}
	if failed == "" || failed == "0" {
		t.Errorf("moodle.self.measuresfailed[daily] = %q after a run whose database was down", failed)
	}
}

// TestProblemsGroupsErrors: distinct errors are one line each, identical ones share a line.
func TestProblemsGroupsErrors(t *testing.T) {
	errA := fmt.Errorf("no such table: mdl_quiz")
	o := Outcome{Site: "s", Family: measures.Daily, Burst: &measures.Burst{Failures: []measures.Failure{
		{Query: "q1", Keys: []string{"a"}, Err: errA},
		{Query: "q2", Keys: []string{"b", "c"}, Err: errA},
		{Query: "q3", Keys: []string{"d"}, Err: fmt.Errorf("timed out")},
	}}, Delivery: Delivery{Failed: 2, FailedKeys: []string{"x[1]", "x[2]"}}}
	got := o.Problems()
	want := []string{
		"3 measures failed (a, b, c): no such table: mdl_quiz",
		"measure d failed: timed out",
		"Zabbix refused 2 values (x[1], x[2])",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHeartbeatNeedsMoodle: with a wrong table prefix the heartbeat is not sent (so the
// nodata trigger fires); with the right one it is 1.
func TestHeartbeatNeedsMoodle(t *testing.T) {
	dsn := testSite(t, time.Now())
	for _, tc := range []struct {
		prefix string
		want   bool
	}{{"wrong_", false}, {"mdl_", true}} {
		trapper := sendertest.NewServer(nil)
		cfg := writeConfig(t, trapper.Addr, dsn, "")
		data, _ := os.ReadFile(cfg)
		data = append(data, []byte("    prefix: "+tc.prefix+"\n")...)
		if err := os.WriteFile(cfg, data, 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "run", "--family", "instant", "--config", cfg)
		got := ""
		for _, it := range trapper.Items() {
			if it.Key == "moodle.general.instance" {
				got = it.Value
			}
		}
		trapper.Close()
		switch {
		case tc.want && (got != "1" || code != ExitOK):
			t.Errorf("prefix %s: heartbeat %q, exit %d, want 1 and 0\n%s", tc.prefix, got, code, errs)
		case !tc.want && got != "":
			t.Errorf("prefix %s: heartbeat %q sent from a database with no Moodle tables under that prefix", tc.prefix, got)
		case !tc.want && (code == ExitOK || !strings.Contains(errs, "moodle.general.instance")):
			t.Errorf("prefix %s: exit %d, want the failure named on standard error:\n%s", tc.prefix, code, errs)
		}
	}
}

// TestAtArgument: --at takes a date (midnight in the site's zone) or RFC 3339; a future value
// and a malformed one are refused naming the value.
func TestAtArgument(t *testing.T) {
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	now := time.Now()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")
	paris, _ := time.LoadLocation("Europe/Paris")
	day := now.In(paris).AddDate(0, 0, -3)
	date := day.Format(time.DateOnly)
	code, out, errs := runCLI(t, "run", "--family", "daily", "--at", date, "--dry-run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("--at %s: exit %d\n%s", date, code, errs)
	}
	// Midnight of that date in Paris: the daily period is the day before.
	from := time.Date(day.Year(), day.Month(), day.Day()-1, 0, 0, 0, 0, paris)
	if !strings.Contains(out, from.Format(time.RFC3339)+"..") {
		t.Errorf("--at %s: want the period starting %s:\n%s", date, from.Format(time.RFC3339), firstLine(out))
	}
	future := now.AddDate(0, 0, 2).Format(time.DateOnly)
	futureTime := now.Add(time.Hour).Format(time.RFC3339)
	for _, bad := range []string{future, futureTime, "01/12/2026", "2026-12-01 00:05"} {
		code, _, errs := runCLI(t, "run", "--family", "daily", "--at", bad, "--config", cfg)
		if code != ExitFailure || !strings.Contains(errs, bad) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("--at %q: exit %d, want 1 and one line naming the value:\n%s", bad, code, errs)
		}
		if strings.Contains(errs, "parsing time") {
			t.Errorf("--at %q: raw parse error: %s", bad, errs)
		}
	}
	if n := len(trapper.Items()); n != 0 {
		t.Errorf("%d values sent by refused runs", n)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestStateDirUnusable: a state directory that cannot be created is reported in one line
// naming the path and the fix, before anything is computed.
func TestStateDirUnusable(t *testing.T) {
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, trapper.Addr, testSite(t, time.Now()), "")
	data, _ := os.ReadFile(cfg)
	data = bytes.Replace(data, []byte("    dir: "), []byte("    dir: "+blocker+"/spool\n    #"), 1)
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "run", "--family", "hourly", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != ExitFailure || len(lines) != 1 || !strings.Contains(errs, blocker+"/spool") ||
		!strings.Contains(errs, "install -d") || !strings.Contains(errs, "zabbix.spool.dir") {
		t.Errorf("exit %d, want 1 and one line with the path and the fix:\n%s", code, errs)
	}
	if n := len(trapper.Items()); n != 0 {
		t.Errorf("%d values sent", n)
	}
}

// TestLedger: a period delivered once is not sent again by a rerun or an --at catch-up;
// --force sends it; a period whose measure failed sends exactly the missing values next time.
func TestLedger(t *testing.T) {
	now := time.Now()
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	dsn := testSite(t, now)
	cfg := writeConfig(t, trapper.Addr, dsn, "")
	periodKeys := func(items []sender.Item) map[string]int {
		out := map[string]int{}
		for _, it := range items {
			if !strings.HasPrefix(it.Key, "moodle.self.") {
				out[it.Key]++
			}
		}
		return out
	}
	run := func(args ...string) []sender.Item {
		t.Helper()
		before := len(trapper.Items())
		code, out, errs := runCLI(t, append([]string{"run", "--config", cfg}, args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		return trapper.Items()[before:]
	}
	first := periodKeys(run("--family", "hourly"))
	if len(first) < 5 {
		t.Fatalf("first run sent %d period values", len(first))
	}
	if again := periodKeys(run("--family", "hourly")); len(again) != 0 {
		t.Errorf("rerun sent %d period values again: %v", len(again), again)
	}
	at := time.Now().Add(-30 * time.Minute).Truncate(time.Hour).Add(time.Minute).Format(time.RFC3339)
	if strings.HasPrefix(at, time.Now().Truncate(time.Hour).Format("2006-01-02T15")) {
		// 30 minutes ago was this hour: the period is the one just sent.
		if again := periodKeys(run("--family", "hourly", "--at", at)); len(again) != 0 {
			t.Errorf("--at catch-up of a delivered period sent %d values", len(again))
		}
	}
	if forced := periodKeys(run("--family", "hourly", "--force")); len(forced) != len(first) {
		t.Errorf("--force sent %d period values, want %d", len(forced), len(first))
	}

	// A failing measure: its keys are what the period lacks; the rerun sends only them.
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("ALTER TABLE mdl_forum_posts RENAME TO mdl_forum_posts_gone"); err != nil {
		t.Fatal(err)
	}
	before := len(trapper.Items())
	code, _, errs := runCLI(t, "run", "--config", cfg, "--family", "monthly")
	if code != ExitSomeFail {
		t.Fatalf("monthly with a missing table: exit %d\n%s", code, errs)
	}
	sentFirst := periodKeys(trapper.Items()[before:])
	if _, err := db.Exec("ALTER TABLE mdl_forum_posts_gone RENAME TO mdl_forum_posts"); err != nil {
		t.Fatal(err)
	}
	filled := periodKeys(run("--family", "monthly"))
	if len(filled) == 0 {
		t.Fatal("the rerun did not send the values the period lacked")
	}
	for k := range filled {
		if sentFirst[k] > 0 {
			t.Errorf("%s sent twice for the same month", k)
		}
	}
	if again := periodKeys(run("--family", "monthly")); len(again) != 0 {
		t.Errorf("third run sent %v", again)
	}
}

// TestLedgerBounded: the ledger keeps the latest periods of each family only, and a period
// older than all it remembers is not sent unforced.
func TestLedgerBounded(t *testing.T) {
	l := &ledger{path: filepath.Join(t.TempDir(), "state", "s.ledger.json")}
	keep := ledgerKeep[measures.Monthly]
	for i := 0; i < keep+25; i++ {
		if err := l.record(measures.Monthly, int64(1000+i), Delivery{Processed: 3}, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.record(measures.Daily, 5, Delivery{Processed: 1}, []string{"k"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	d, err := l.read()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Periods) != keep+1 {
		t.Errorf("%d periods kept, want %d", len(d.Periods), keep+1)
	}
	for _, tc := range []struct {
		clock           int64
		known, forgotte bool
	}{{1000 + int64(keep) + 24, true, false}, {1000, false, true}, {99999, false, false}} {
		got, err := l.lookup(measures.Monthly, tc.clock)
		if err != nil || got.Known != tc.known || got.Forgotten != tc.forgotte {
			t.Errorf("lookup %d: %+v, %v; want known %v forgotten %v", tc.clock, got, err, tc.known, tc.forgotte)
		}
	}
	if got, _ := l.lookup(measures.Daily, 5); !got.Known || len(got.Entry.Missing) != 1 {
		t.Errorf("daily entry lost: %+v", got)
	}
	st, err := os.Stat(l.path)
	if err != nil || st.Size() > 64<<10 {
		t.Errorf("ledger size %v, %v", st.Size(), err)
	}
	// A torn ledger is reported, naming the file.
	if err := os.WriteFile(l.path, []byte(`{"periods": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.lookup(measures.Daily, 5); err == nil || !strings.Contains(err.Error(), l.path) {
		t.Errorf("torn ledger: %v", err)
	}
}

// TestBackfill: 12 months of monthly values, each with its month's clock, only measures that
// depend on their period; a second backfill sends nothing.
func TestBackfill(t *testing.T) {
	now := time.Now()
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")
	paris, _ := time.LoadLocation("Europe/Paris")
	thisMonth := time.Date(now.In(paris).Year(), now.In(paris).Month(), 1, 0, 0, 0, 0, paris)
	from := thisMonth.AddDate(-1, 0, 0)
	args := []string{"run", "--config", cfg, "--family", "monthly", "--from", from.Format(time.DateOnly), "--to", thisMonth.Format(time.DateOnly), "--pause", "0"}
	code, out, errs := runCLI(t, args...)
	if code != ExitOK || out != "" || errs != "" {
		t.Fatalf("backfill: exit %d\n%s%s", code, out, errs)
	}
	clocks := map[int64]int{}
	want := map[int64]bool{}
	for m := from; m.Before(thisMonth); m = m.AddDate(0, 1, 0) {
		want[m.AddDate(0, 1, 0).Unix()-1] = true
	}
	for _, it := range trapper.Items() {
		if strings.HasPrefix(it.Key, "moodle.self.") {
			t.Errorf("backfill sent self-monitoring value %s", it.Key)
		}
		if !want[it.Clock] {
			t.Errorf("%s at %d: not the last second of a backfilled month", it.Key, it.Clock)
		}
		clocks[it.Clock]++
	}
	if len(clocks) != 12 {
		t.Errorf("values at %d distinct clocks, want 12 months", len(clocks))
	}
	// Measures describing the present (no window in their query) are left out.
	reg := catalogue.Registry()
	for _, it := range trapper.Items() {
		if m := reg.Lookup(it.Key); m != nil && !m.Query.DependsOnWindow() {
			t.Errorf("%s backfilled although it describes the present", it.Key)
		}
	}
	n := len(trapper.Items())
	code, out, _ = runCLI(t, append(args, "-v")...)
	if code != ExitOK || len(trapper.Items()) != n {
		t.Errorf("second backfill: exit %d, sent %d values, want none", code, len(trapper.Items())-n)
	}
	if !strings.Contains(out, "12 periods, 0 computed and sent, 12 delivered before") {
		t.Errorf("second backfill summary:\n%s", out)
	}
	// Refusals: instant, an empty range, --to without --from.
	for _, bad := range [][]string{
		{"--family", "instant", "--from", from.Format(time.DateOnly)},
		{"--family", "monthly", "--from", thisMonth.Format(time.DateOnly), "--to", from.Format(time.DateOnly)},
		{"--family", "monthly", "--to", from.Format(time.DateOnly)},
	} {
		if code, _, errs := runCLI(t, append([]string{"run", "--config", cfg}, bad...)...); code != ExitFailure || errs == "" {
			t.Errorf("%v: exit %d, %q", bad, code, errs)
		}
	}
}

// TestBackfillPeriods: whole periods in [from, to), oldest first, across a DST change.
func TestBackfillPeriods(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	from := time.Date(2026, 3, 27, 0, 0, 0, 0, paris)
	to := time.Date(2026, 4, 1, 0, 0, 0, 0, paris)
	got, err := BackfillPeriods(measures.Daily, from, to, paris)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || !got[0].Equal(from.AddDate(0, 0, 1)) || !got[4].Equal(to) {
		t.Errorf("daily periods %v", got)
	}
	if _, err := BackfillPeriods(measures.Hourly, from.AddDate(-1, 0, 0), to, paris); err == nil {
		t.Error("a year of hours accepted")
	}
}

// TestDaemonLogsScheduleAndStop: the daemon logs each entry's real next time at start and
// says when it stops.
func TestDaemonLogsScheduleAndStop(t *testing.T) {
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	cfg, err := config.Load(writeConfig(t, trapper.Addr, testSite(t, time.Now()), ""))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	rt, err := NewRuntime(cfg, catalogue.Registry(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunDaemon(ctx, rt, log) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "main/monthly") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	text := logs.String()
	if strings.Contains(text, "0001-01-01") {
		t.Errorf("zero next time logged:\n%s", text)
	}
	for _, want := range []string{"daemon started", "entry=main/instant", "entry=main/monthly", "zone=Europe/Paris", "daemon stopped"} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
	nextMonth := time.Now().In(rt.site("main").site.Location).AddDate(0, 1, 0).Format("2006-01")
	if !strings.Contains(text, "next="+nextMonth+"-01T00:10:00") {
		t.Errorf("monthly next time is not 00:10 on the 1st of %s:\n%s", nextMonth, text)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger writing from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestVersionStamped: `version` prints what make build stamps.
func TestVersionStamped(t *testing.T) {
	v, c := Version, Commit
	t.Cleanup(func() { Version, Commit = v, c })
	Version, Commit = "1.4.0", "0123456789ab"
	code, out, _ := runCLI(t, "version")
	if code != ExitOK || !strings.HasPrefix(out, "moodle-zabbix 1.4.0 (commit 0123456789ab, go") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// TestProblemsOneCause: values and self-monitoring values refused for one cause the API
// named are one line.
func TestProblemsOneCause(t *testing.T) {
	o := Outcome{Site: "s", Family: measures.Instant, Burst: &measures.Burst{},
		Delivery: Delivery{Failed: 12}, ReportDelivery: Delivery{Failed: 9},
		Diagnosis: []string{"host moodle-x is unknown to Zabbix"}}
	got := o.Problems()
	if len(got) != 1 || got[0] != "Zabbix refused 21 values: host moodle-x is unknown to Zabbix" {
		t.Errorf("problems %q", got)
	}
}

// TestProblemsJoinedErrorIsOneLine: an error joining several (two sends that both failed) is
// still one line, and values spooled by the self-monitoring send count as spooled.
func TestProblemsJoinedErrorIsOneLine(t *testing.T) {
	o := Outcome{Site: "s", Family: measures.Weekly, Burst: &measures.Burst{},
		ReportDelivery: Delivery{Spooled: 7},
		Err:            errors.Join(errors.New("31 values not delivered"), errors.New("30 values not delivered"))}
	got := o.Problems()
	if len(got) != 1 || strings.Contains(got[0], "\n") || !strings.HasPrefix(got[0], "Zabbix unreachable: 7 values spooled") {
		t.Errorf("problems %q", got)
	}
}
