package app

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

func loadSite(t *testing.T, dialect, dsn string, seed int64, now time.Time) *sql.DB {
	t.Helper()
	driver := map[string]string{"mysql": "mysql", "postgres": "pgx"}[dialect]
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := fixture.Generate(seed, fixture.Tiny, now).Load(context.Background(), db, dialect, "mdl_"); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestEndToEndZabbix is the whole product against real Zabbix 6.0 and 7.0: two Moodle sites (MariaDB
// and PostgreSQL) in one fleet group, install (twice: the second changes nothing), every family
// run and sent, every value read back from Zabbix's history and compared, the fleet's
// calculated items checked against the two sites, a trigger fired by stopping cron, and the
// site's and the fleet's dashboards and a graph of each shown by the web frontend without error.
func TestEndToEndZabbix(t *testing.T) { ztest.EachZabbix(t, testEndToEndZabbix) }

func testEndToEndZabbix(t *testing.T, env *ztest.Env) {
	ctx := context.Background()
	now := time.Now()
	myDSN, _ := ztest.Database(t, "mysql")
	pgDSN, _ := ztest.Database(t, "postgres")
	myDB := loadSite(t, "mysql", myDSN, 11, now)
	loadSite(t, "postgres", pgDSN, 12, now)

	group := ztest.UniqueName("Moodle e2e sites")
	myHost, pgHost, fleetHost := ztest.UniqueName("moodle-e2e-my"), ztest.UniqueName("moodle-e2e-pg"), ztest.UniqueName("moodle-e2e-fleet")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfgText := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
fleets:
  - {name: "%s", host: "%s", group: "%s"}
sites:
  - {name: my, host: "%s", driver: mysql, dsn: "env:MZ_E2E_MY_DSN", timezone: Europe/Paris, groups: ["%s"], courses_of_interest: ["idnumber:PHYS101"]}
  - {name: pg, host: "%s", driver: postgres, dsn: "env:MZ_E2E_PG_DSN", groups: ["%s"]}
`, env.Server, filepath.Join(dir, "spool"), env.URL, os.Getenv("MZ_ZABBIX_USER"), fleetHost, fleetHost, group, myHost, group, pgHost, group)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MZ_E2E_MY_DSN", myDSN)
	t.Setenv("MZ_E2E_PG_DSN", pgDSN)
	t.Cleanup(func() {
		deleteHosts(t, env.API, myHost, pgHost, fleetHost)
		deleteGroups(t, env.API, group)
	})

	// install, twice: the second run changes nothing.
	code, out, errs := runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK {
		t.Fatalf("second install: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "nothing to change") {
		// A failure, but what follows can still be checked.
		t.Errorf("second install changed something:\n%s\n%s", out, errs)
	}

	// The trapper knows new hosts after a configuration cache reload.
	client, err := sender.NewClient(sender.Options{Servers: []string{env.Server}})
	if err != nil {
		t.Fatal(err)
	}
	env.ReloadConfigCache(t)
	for _, h := range []string{myHost, pgHost} {
		ztest.WaitFor(t, func() bool {
			res, _ := client.Send(ctx, []sender.Item{{Host: h, Key: "moodle.general.instance", Value: "1", Clock: now.Unix() - 7200}})
			return res.Processed == 1
		}, 60*time.Second)
	}

	rt := openRuntime(t, cfgPath)
	rt.LLDRetry = time.Second
	type sent struct {
		host string
		val  measures.Value
	}
	var all []sent
	for _, f := range measures.Families {
		for _, site := range []struct{ name, host string }{{"my", myHost}, {"pg", pgHost}} {
			o := rt.RunFamily(ctx, site.name, f, now, false)
			if o.ExitCode() != ExitOK || o.Delivery.Failed != 0 {
				t.Fatalf("%s %s: exit %d, delivery %s, failures %v, err %v, refused %v",
					site.name, f, o.ExitCode(), o.Delivery, o.Burst.Failures, o.Err, o.Delivery.FailedKeys)
			}
			t.Logf("%s %s: %d values, %s", site.name, f, len(o.Burst.Values), o.Delivery)
			for _, v := range o.Burst.Values {
				if !v.Discovery {
					all = append(all, sent{site.host, v})
				}
			}
		}
	}

	// Every value is in Zabbix's history with its clock.
	for _, h := range []string{myHost, pgHost} {
		var vals []measures.Value
		for _, s := range all {
			if s.host == h {
				vals = append(vals, s.val)
			}
		}
		checkHistory(t, env.API, h, vals)
	}

	checkFleet(t, env, fleetHost, myHost, pgHost)

	// Stop cron on the MariaDB site: no task has run for two days. The next instant run must
	// raise the cron problem.
	for _, stmt := range []string{
		"UPDATE mdl_task_log SET timestart = timestart - 172800, timeend = timeend - 172800",
		"UPDATE mdl_task_scheduled SET lastruntime = lastruntime - 172800",
		"UPDATE mdl_config_plugins SET value = CAST(value AS SIGNED) - 172800 WHERE plugin = 'tool_task' AND name = 'lastcronstart'",
	} {
		if _, err := myDB.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	later := now.Add(2 * time.Minute)
	if o := rt.RunFamily(ctx, "my", measures.Instant, later, false); o.ExitCode() != ExitOK {
		t.Fatalf("instant run after stopping cron: %v %v", o.Delivery, o.Burst.Failures)
	}
	hosts, err := env.API.HostGet(ctx, myHost)
	if err != nil || len(hosts) != 1 {
		t.Fatalf("host.get %s: %v", myHost, err)
	}
	var problems []zabbixapi.Problem
	ztest.WaitFor(t, func() bool {
		problems, _ = env.API.ProblemGet(ctx, zabbixapi.ProblemQuery{HostIDs: []string{hosts[0].HostID}})
		for _, p := range problems {
			if strings.Contains(strings.ToLower(p.Name), "cron") {
				return true
			}
		}
		return false
	}, 60*time.Second)
	t.Logf("problems on %s: %+v", myHost, problems)
	checkFrontend(t, env, myHost)
	checkFrontend(t, env, fleetHost)

	// A disabled item: Zabbix counts its value as failed, the run exits 2 and the API names it.
	var items []zabbixapi.Item
	if items, err = env.API.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hosts[0].HostID}, Keys: []string{"moodle.users.active"}}); err != nil || len(items) != 1 {
		t.Fatalf("item.get: %v", err)
	}
	if err := env.API.Call(ctx, "item.update", map[string]any{"itemid": items[0].ItemID, "status": 1}, nil); err != nil {
		t.Fatal(err)
	}
	env.ReloadConfigCache(t)
	var o Outcome
	ztest.WaitFor(t, func() bool {
		later = later.Add(time.Hour)
		o = rt.RunFamily(ctx, "my", measures.Hourly, later, false)
		return o.Delivery.Failed > 0
	}, 60*time.Second)
	if o.ExitCode() != ExitSomeFail || !strings.Contains(strings.Join(o.Diagnosis, "\n"), "moodle.users.active is disabled") {
		t.Errorf("disabled item: exit %d, diagnosis %q", o.ExitCode(), o.Diagnosis)
	}
}

// checkHistory reads every sent value back from history.get and compares it.
func checkHistory(t *testing.T, api *zabbixapi.Client, host string, vals []measures.Value) {
	t.Helper()
	ctx := context.Background()
	hosts, err := api.HostGet(ctx, host)
	if err != nil || len(hosts) != 1 {
		t.Fatalf("host.get %s: %v (%d hosts)", host, err, len(hosts))
	}
	var items []zabbixapi.Item
	ztest.WaitFor(t, func() bool {
		items, err = api.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hosts[0].HostID}})
		return err == nil && len(items) > 0
	}, 30*time.Second)
	byKey := map[string]zabbixapi.Item{}
	for _, it := range items {
		byKey[it.Key] = it
	}
	missing := map[string]measures.Value{}
	for _, v := range vals {
		if _, ok := byKey[v.Key]; !ok {
			t.Errorf("%s: no item for sent key %s", host, v.Key)
			continue
		}
		missing[v.Key] = v
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(missing) > 0 && time.Now().Before(deadline) {
		for vt := zabbixapi.ValueFloat; vt <= zabbixapi.ValueText; vt++ {
			var ids []string
			idKey := map[string]string{}
			minClock, maxClock := int64(math.MaxInt64), int64(0)
			for k, v := range missing {
				it := byKey[k]
				if it.ValueType != vt {
					continue
				}
				ids = append(ids, it.ItemID)
				idKey[it.ItemID] = k
				minClock = min(minClock, v.Clock.Unix())
				maxClock = max(maxClock, v.Clock.Unix())
			}
			if len(ids) == 0 {
				continue
			}
			hist, err := api.HistoryGet(ctx, ids, vt, time.Unix(minClock, 0), time.Unix(maxClock, 0))
			if err != nil {
				t.Fatalf("history.get: %v", err)
			}
			for _, h := range hist {
				k := idKey[h.ItemID]
				v, ok := missing[k]
				if !ok || int64(h.Clock) != v.Clock.Unix() {
					continue
				}
				if !sameValue(h.Value, v.Value) {
					t.Errorf("%s %s: Zabbix stored %q, sent %q", host, k, h.Value, v.Value)
				}
				delete(missing, k)
			}
		}
		if len(missing) > 0 {
			time.Sleep(time.Second)
		}
	}
	for k, v := range missing {
		t.Errorf("%s %s = %q @%d: not found in Zabbix's history", host, k, v.Value, v.Clock.Unix())
	}
	t.Logf("%s: %d values read back from history", host, len(vals)-len(missing))
}

func sameValue(stored, sent string) bool {
	if stored == sent {
		return true
	}
	a, err1 := strconv.ParseFloat(stored, 64)
	b, err2 := strconv.ParseFloat(sent, 64)
	return err1 == nil && err2 == nil && math.Abs(a-b) <= 1e-4*math.Max(1, math.Abs(b))
}

// checkFleet asks Zabbix to compute the fleet's calculated items now and compares them with
// the two sites' latest values.
func checkFleet(t *testing.T, env *ztest.Env, fleet, a, b string) {
	t.Helper()
	ctx := context.Background()
	reg := catalogue.Registry()
	latest := func(host string) map[string]string {
		hs, err := env.API.HostGet(ctx, host)
		if err != nil || len(hs) != 1 {
			t.Fatalf("host.get %s: %v", host, err)
		}
		items, err := env.API.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hs[0].HostID}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, it := range items {
			if it.LastClock > 0 {
				out[it.Key] = it.LastValue
			}
		}
		return out
	}
	la, lb := latest(a), latest(b)
	fh, err := env.API.HostGet(ctx, fleet)
	if err != nil || len(fh) != 1 {
		t.Fatalf("host.get %s: %v", fleet, err)
	}
	items, err := env.API.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{fh[0].HostID}})
	if err != nil || len(items) < 18 {
		t.Fatalf("fleet host has %d items (%v), want at least 18", len(items), err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ItemID)
	}
	// "Check now" tasks make the server compute the calculated items at once.
	if err := env.API.Call(ctx, "task.create", checkNowTasks(ids), nil); err != nil {
		t.Fatalf("task.create: %v", err)
	}
	checked := 0
	ztest.WaitFor(t, func() bool {
		items, err = env.API.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{fh[0].HostID}})
		if err != nil {
			return false
		}
		checked = 0
		bad := []string{}
		for _, it := range items {
			m := fleetSource(reg, it.Key)
			if m == nil || it.LastClock == 0 {
				if it.Key == templates.FleetSitesKey && it.LastValue == "2" {
					checked++
				}
				continue
			}
			va, okA := la[m.Key]
			vb, okB := lb[m.Key]
			if !okA || !okB {
				continue
			}
			want := aggregate(m.Aggregate, va, vb)
			if !sameValue(it.LastValue, want) {
				bad = append(bad, fmt.Sprintf("%s=%s want %s", it.Key, it.LastValue, want))
				continue
			}
			checked++
		}
		if len(bad) > 0 {
			t.Logf("fleet items not matching yet: %v", bad)
			return false
		}
		return checked >= 18
	}, 90*time.Second)
	t.Logf("fleet: %d calculated items match the two sites", checked)
}

func checkNowTasks(itemIDs []string) []map[string]any {
	out := make([]map[string]any, len(itemIDs))
	for i, id := range itemIDs {
		out[i] = map[string]any{"type": 6, "request": map[string]any{"itemid": id}}
	}
	return out
}

func fleetSource(reg *measures.Registry, fleetKey string) *measures.Measure {
	for _, m := range templates.FleetMeasures(reg) {
		if templates.FleetKey(m.Key) == fleetKey {
			return m
		}
	}
	return nil
}

func aggregate(a measures.Aggregate, x, y string) string {
	fx, _ := strconv.ParseFloat(x, 64)
	fy, _ := strconv.ParseFloat(y, 64)
	var r float64
	switch a {
	case measures.Sum:
		r = fx + fy
	case measures.Avg:
		r = (fx + fy) / 2
	case measures.Max:
		r = math.Max(fx, fy)
	case measures.Min:
		r = math.Min(fx, fy)
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func deleteHosts(t *testing.T, api *zabbixapi.Client, names ...string) {
	ctx := context.Background()
	hs, err := api.HostGet(ctx, names...)
	if err != nil {
		t.Logf("clean-up host.get: %v", err)
		return
	}
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.HostID)
	}
	if len(ids) > 0 {
		if err := api.HostDelete(ctx, ids...); err != nil {
			t.Logf("clean-up host.delete: %v", err)
		}
	}
}

func deleteGroups(t *testing.T, api *zabbixapi.Client, names ...string) {
	ctx := context.Background()
	gs, err := api.HostGroupGet(ctx, names...)
	if err != nil {
		return
	}
	var ids []string
	for _, g := range gs {
		ids = append(ids, g.GroupID)
	}
	if len(ids) > 0 {
		if err := api.HostGroupDelete(ctx, ids...); err != nil {
			t.Logf("clean-up hostgroup.delete: %v", err)
		}
	}
}

// testLogger sends log lines to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
