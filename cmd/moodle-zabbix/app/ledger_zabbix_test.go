package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// TestLedgerAndBackfillZabbix runs against the real Zabbix 6.0: a period run, rerun and caught
// up with --at is stored once, with no duplicate-key error in the server log (a forced rerun
// proves the log check sees them); a backfill of 12 months arrives with each month's clock,
// and a second backfill sends nothing.
func TestLedgerAndBackfillZabbix(t *testing.T) {
	env := ztest.Zabbix(t)
	ctx := context.Background()
	now := time.Now()
	dsn, _ := ztest.Database(t, "mysql")
	loadSite(t, "mysql", dsn, 31, now)

	group, host := ztest.UniqueName("Moodle ledger"), ztest.UniqueName("moodle-ledger")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfgText := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
sites:
  - {name: s, host: "%s", driver: mysql, dsn: "env:MZ_LEDGER_DSN", timezone: Europe/Paris, groups: ["%s"]}
`, env.Server, filepath.Join(dir, "spool"), env.URL, os.Getenv("MZ_ZABBIX_USER"), host, group)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MZ_LEDGER_DSN", dsn)
	t.Cleanup(func() {
		deleteHosts(t, env.API, host)
		deleteGroups(t, env.API, group)
	})
	if code, out, errs := runCLI(t, "install", "--config", cfgPath); code != ExitOK {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errs)
	}
	client, err := sender.NewClient(sender.Options{Servers: []string{env.Server}})
	if err != nil {
		t.Fatal(err)
	}
	env.ReloadConfigCache(t)
	ztest.WaitFor(t, func() bool {
		res, _ := client.Send(ctx, []sender.Item{{Host: host, Key: "moodle.general.instance", Value: "1", Clock: now.Unix() - 7200}})
		return res.Processed == 1
	}, 60*time.Second)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	newRuntime := func() *Runtime {
		rt, err := NewRuntime(cfg, catalogue.Registry(), testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rt.Close)
		rt.LLDRetry = time.Second
		return rt
	}
	rt := newRuntime()
	serverLog := newLogTail(t)

	// Run, rerun, catch up the same period with --at: one delivery.
	first := rt.Run(ctx, "s", measures.Daily, now, RunOptions{})
	if first.ExitCode() != ExitOK || first.Delivery.Sent == 0 {
		t.Fatalf("first run: exit %d, %s, %v", first.ExitCode(), first.Delivery, first.Problems())
	}
	again := rt.Run(ctx, "s", measures.Daily, now, RunOptions{})
	if again.ExitCode() != ExitOK || again.Delivery.Sent != 0 || again.Ledger == "" {
		t.Errorf("rerun: exit %d, %s, ledger %q: want nothing sent", again.ExitCode(), again.Delivery, again.Ledger)
	}
	rt.Close() // the command below is another runtime: it needs the spool
	today := now.In(rt.site("s").site.Location).Format(time.DateOnly)
	if code, out, errs := runCLI(t, "run", "--family", "daily", "--at", today, "--config", cfgPath); code != ExitOK || out+errs != "" {
		t.Errorf("--at %s: exit %d\n%s%s", today, code, out, errs)
	}
	rt = newRuntime()
	var vals []measures.Value
	for _, v := range first.Burst.Values {
		if !v.Discovery {
			vals = append(vals, v)
		}
	}
	items := hostItems(t, env.API, host)
	counts := historyCounts(t, env.API, items, vals)
	for _, v := range vals {
		if n := counts[v.Key]; n != 1 {
			t.Errorf("%s @%d stored %d times, want once", v.Key, v.Clock.Unix(), n)
		}
	}
	ids := map[string]bool{}
	for _, it := range items {
		ids[it.ItemID] = true
	}
	time.Sleep(3 * time.Second) // the history syncer writes within a second or two
	if dups := serverLog.duplicates(t, ids); len(dups) > 0 {
		t.Errorf("the Zabbix server log has duplicate-key errors for this host's items:\n%s", strings.Join(dups, "\n"))
	}
	// The check can fail: a forced rerun does make Zabbix log duplicate keys.
	if serverLog.path != "" {
		forced := rt.Run(ctx, "s", measures.Daily, now, RunOptions{Force: true})
		if forced.Delivery.Sent == 0 {
			t.Errorf("--force sent nothing: %s", forced.Delivery)
		}
		var dups []string
		ztest.WaitFor(t, func() bool { dups = serverLog.duplicates(t, ids); return len(dups) > 0 }, 30*time.Second)
		t.Logf("forced rerun, as expected: %s", dups[0])
	}

	// Backfill 12 months of monthly values.
	loc := rt.site("s").site.Location
	thisMonth := time.Date(now.In(loc).Year(), now.In(loc).Month(), 1, 0, 0, 0, 0, loc)
	from := thisMonth.AddDate(-1, 0, 0)
	req := backfillRequest{from: &timeArg{flag: "from", date: from}, to: &timeArg{flag: "to", date: thisMonth}}
	var report strings.Builder
	w := outcomeWriter{report: &report, problems: &report, verbose: true}
	if code := rt.backfill(ctx, "s", measures.Monthly, req, RunOptions{}, w); code != ExitOK {
		t.Fatalf("backfill: exit %d\n%s", code, report.String())
	}
	t.Logf("backfill:\n%s", lastLine(report.String()))
	var monthly []measures.Value
	for m := from; m.Before(thisMonth); m = m.AddDate(0, 1, 0) {
		for _, ms := range catalogue.Registry().Family(measures.Monthly) {
			// Measures of plugins the fixture site lacks are skipped, so never stored.
			if ms.Discovery == nil && ms.Query.DependsOnWindow() && ms.Query.Component == "" {
				monthly = append(monthly, measures.Value{Key: ms.Key, Clock: m.AddDate(0, 1, 0).Add(-time.Second)})
			}
		}
	}
	got := historyAt(t, env.API, items, monthly)
	for _, v := range monthly {
		if got[v.Key][v.Clock.Unix()] != 1 {
			t.Errorf("%s @%s: stored %d times, want once", v.Key, v.Clock.Format(time.RFC3339), got[v.Key][v.Clock.Unix()])
		}
	}
	report.Reset()
	if code := rt.backfill(ctx, "s", measures.Monthly, req, RunOptions{}, w); code != ExitOK ||
		!strings.Contains(report.String(), "12 periods, 0 computed and sent, 12 delivered before") {
		t.Errorf("second backfill: exit %d\n%s", code, report.String())
	}
	again2 := historyAt(t, env.API, items, monthly)
	for _, v := range monthly {
		if again2[v.Key][v.Clock.Unix()] != 1 {
			t.Errorf("%s @%s: %d values after the second backfill", v.Key, v.Clock.Format(time.RFC3339), again2[v.Key][v.Clock.Unix()])
		}
	}
	if dups := serverLog.duplicatesSinceForce(t, ids); len(dups) > 0 {
		t.Errorf("backfills made Zabbix log duplicate keys:\n%s", strings.Join(dups, "\n"))
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}

func hostItems(t *testing.T, api *zabbixapi.Client, host string) []zabbixapi.Item {
	t.Helper()
	ctx := context.Background()
	hosts, err := api.HostGet(ctx, host)
	if err != nil || len(hosts) != 1 {
		t.Fatalf("host.get %s: %v", host, err)
	}
	var items []zabbixapi.Item
	ztest.WaitFor(t, func() bool {
		items, err = api.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hosts[0].HostID}})
		return err == nil && len(items) > 0
	}, 30*time.Second)
	return items
}

// historyCounts counts, per key, the values stored at the clock each value was sent with.
func historyCounts(t *testing.T, api *zabbixapi.Client, items []zabbixapi.Item, vals []measures.Value) map[string]int {
	t.Helper()
	at := historyAt(t, api, items, vals)
	out := map[string]int{}
	for _, v := range vals {
		out[v.Key] = at[v.Key][v.Clock.Unix()]
	}
	return out
}

// historyAt reads, through history.get, how many values each key has at each clock of vals,
// waiting up to a minute for the first to show.
func historyAt(t *testing.T, api *zabbixapi.Client, items []zabbixapi.Item, vals []measures.Value) map[string]map[int64]int {
	t.Helper()
	ctx := context.Background()
	byKey := map[string]zabbixapi.Item{}
	for _, it := range items {
		byKey[it.Key] = it
	}
	out := map[string]map[int64]int{}
	ztest.WaitFor(t, func() bool {
		out = map[string]map[int64]int{}
		for vt := zabbixapi.ValueFloat; vt <= zabbixapi.ValueText; vt++ {
			var ids []string
			keyOf := map[string]string{}
			lo, hi := int64(1<<62), int64(0)
			for _, v := range vals {
				it, ok := byKey[v.Key]
				if !ok || it.ValueType != vt {
					continue
				}
				ids = append(ids, it.ItemID)
				keyOf[it.ItemID] = v.Key
				lo, hi = min(lo, v.Clock.Unix()), max(hi, v.Clock.Unix())
			}
			if len(ids) == 0 {
				continue
			}
			hist, err := api.HistoryGet(ctx, ids, vt, time.Unix(lo, 0), time.Unix(hi, 0))
			if err != nil {
				t.Fatalf("history.get: %v", err)
			}
			for _, h := range hist {
				k := keyOf[h.ItemID]
				if out[k] == nil {
					out[k] = map[int64]int{}
				}
				out[k][int64(h.Clock)]++
			}
		}
		for _, v := range vals {
			if out[v.Key][v.Clock.Unix()] == 0 {
				return false
			}
		}
		return true
	}, 60*time.Second)
	return out
}

// logTail reads the Zabbix server's log (LogFile in MZ_ZABBIX_CONF) from where it was when
// the test began.
type logTail struct {
	path        string
	start, mark int64
}

func newLogTail(t *testing.T) *logTail {
	conf := os.Getenv("MZ_ZABBIX_CONF")
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Logf("no server log check: %v", err)
		return &logTail{}
	}
	m := regexp.MustCompile(`(?m)^LogFile=(.+)$`).FindSubmatch(data)
	if m == nil {
		t.Logf("no server log check: %s has no LogFile", conf)
		return &logTail{}
	}
	l := &logTail{path: strings.TrimSpace(string(m[1]))}
	st, err := os.Stat(l.path)
	if err != nil {
		t.Logf("no server log check: %v", err)
		return &logTail{}
	}
	l.start = st.Size()
	return l
}

var duplicateEntry = regexp.MustCompile(`Duplicate entry '(\d+)-\d+-\d+'|duplicate key value violates.*\(itemid, clock, ns\)=\((\d+),`)

// duplicates returns the log lines written since the test began that report a duplicate key
// for one of ids, and remembers where the log ends.
func (l *logTail) duplicates(t *testing.T, ids map[string]bool) []string {
	return l.scan(t, l.start, ids)
}

// duplicatesSinceForce returns the duplicate-key lines written after the last duplicates call.
func (l *logTail) duplicatesSinceForce(t *testing.T, ids map[string]bool) []string {
	return l.scan(t, l.mark, ids)
}

func (l *logTail) scan(t *testing.T, from int64, ids map[string]bool) []string {
	if l.path == "" {
		return nil
	}
	f, err := os.Open(l.path)
	if err != nil {
		t.Fatalf("server log: %v", err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Size() < from {
		from = 0 // rotated
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := duplicateEntry.FindStringSubmatch(sc.Text())
		if m != nil && (ids[m[1]] || ids[m[2]]) {
			out = append(out, sc.Text())
		}
	}
	l.mark = st.Size()
	return out
}

// TestInstallBackfillZabbix: `install --backfill` on a new host waits for Zabbix to accept it,
// then sends past periods with their own clocks; a second one sends nothing again.
func TestInstallBackfillZabbix(t *testing.T) {
	env := ztest.Zabbix(t)
	now := time.Now()
	dsn, _ := ztest.Database(t, "mysql")
	loadSite(t, "mysql", dsn, 32, now)
	saved := InstallBackfillRanges
	t.Cleanup(func() { InstallBackfillRanges = saved })
	InstallBackfillRanges = InstallBackfillRanges[:1] // 12 months
	group, host := ztest.UniqueName("Moodle backfill"), ztest.UniqueName("moodle-backfill")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfgText := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
sites:
  - {name: b, host: "%s", driver: mysql, dsn: "env:MZ_BACKFILL_DSN", groups: ["%s"]}
`, env.Server, filepath.Join(dir, "spool"), env.URL, os.Getenv("MZ_ZABBIX_USER"), host, group)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MZ_BACKFILL_DSN", dsn)
	t.Cleanup(func() {
		deleteHosts(t, env.API, host)
		deleteGroups(t, env.API, group)
	})
	code, out, errs := runCLI(t, "install", "--backfill", "--pause", "0", "--config", cfgPath)
	if code != ExitOK || !strings.Contains(out, "backfill done") {
		t.Fatalf("install --backfill: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("install --backfill:\n%s%s", out, errs)
	var monthly []measures.Value
	thisMonth := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	for m := thisMonth.AddDate(-1, 0, 0); m.Before(thisMonth); m = m.AddDate(0, 1, 0) {
		monthly = append(monthly, measures.Value{Key: "moodle.users.monthlyactive", Clock: m.AddDate(0, 1, 0).Add(-time.Second)})
	}
	if catalogue.Registry().Lookup(monthly[0].Key) == nil {
		t.Fatalf("%s is not a measure", monthly[0].Key)
	}
	got := historyAt(t, env.API, hostItems(t, env.API, host), monthly)
	for _, v := range monthly {
		if got[v.Key][v.Clock.Unix()] != 1 {
			t.Errorf("%s @%s stored %d times", v.Key, v.Clock.Format(time.RFC3339), got[v.Key][v.Clock.Unix()])
		}
	}
	code, out, errs = runCLI(t, "install", "--backfill", "--pause", "0", "--config", cfgPath)
	if code != ExitOK || strings.Contains(errs, "moodle-zabbix: ") {
		t.Fatalf("second install --backfill: exit %d\n%s\n%s", code, out, errs)
	}
	again := historyAt(t, env.API, hostItems(t, env.API, host), monthly)
	for _, v := range monthly {
		if again[v.Key][v.Clock.Unix()] != 1 {
			t.Errorf("%s @%s stored %d times after a second backfill", v.Key, v.Clock.Format(time.RFC3339), again[v.Key][v.Clock.Unix()])
		}
	}
}
