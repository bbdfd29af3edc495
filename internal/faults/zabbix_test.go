package faults

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/cmd/moodle-zabbix/app"
	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// sentValue is one value handed to Zabbix, with the clock it must be stored at.
type sentValue struct {
	key, value string
	clock      int64
}

// runPlan hands out distinct windows, so that every run's values have their own clock:
// the n-th run of a family goes n periods back.
type runPlan struct {
	now   time.Time
	count map[measures.Family]int
	i     int
}

var planCycle = []measures.Family{measures.Instant, measures.Hourly, measures.Instant, measures.Daily,
	measures.Instant, measures.Weekly, measures.Instant, measures.Monthly}

func (p *runPlan) next() (measures.Family, time.Time) {
	f := planCycle[p.i%len(planCycle)]
	p.i++
	p.count[f]++
	n := p.count[f]
	switch f {
	case measures.Instant:
		return f, p.now.Add(-time.Duration(n) * time.Minute)
	case measures.Hourly:
		return f, p.now.Add(-time.Duration(n) * time.Hour)
	case measures.Daily:
		return f, p.now.AddDate(0, 0, -n)
	case measures.Weekly:
		return f, p.now.AddDate(0, 0, -7*n)
	}
	return f, p.now.AddDate(0, -n, 0)
}

// TestZabbixStoppedMidBurst installs a site host in the real Zabbix, runs every family once,
// then keeps running families (each for its own window) while the Zabbix server is stopped
// under them, so that some values are answered and the rest spooled. With the server started
// again, one more run replays the spool first. Every value computed must then be in Zabbix's
// history exactly once, at the clock it was computed for. Sending some of them a second time
// (what a replay after a crash does) must not store them twice.
//
// It runs on the 6.0 server only. What it proves (spool, replay, exactly-once history) lies
// in the product and the trapper protocol, which 6.0 and 7.0 share; a stopped server looks
// the same from the sender's side (connection refused). Stopping a server also holds every
// other test on that server, so a second run on 7.0 would cost CI minutes and cover nothing
// new; internal/zabbixapi's TestIntegrationServerStopStart checks stop and start on 7.0.
func TestZabbixStoppedMidBurst(t *testing.T) {
	env := ztest.Zabbix(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Minute)
	dsn, db := tempDSN(t, "mysql")
	loadFixture(t, db, "mysql", 41, now)
	host, group := ztest.UniqueName("mz-fault-zbx"), ztest.UniqueName("Moodle fault sites")
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	cfgPath := writeFile(t, dir, "config.yaml", fmt.Sprintf(`zabbix:
  servers: ["%s"]
  timeout: 3s
  batch_size: 5
  # The runs below go back weeks and months, each for its own window: max_age counts the time
  # spent in the spool, not the values' clocks, so the default keeps them.
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
sites:
  - {name: zbx, host: "%s", driver: mysql, dsn: "env:MZ_FAULT_DSN", groups: ["%s"]}
`, env.Server, spoolDir, env.URL, os.Getenv("MZ_ZABBIX_USER"), host, group))
	t.Setenv("MZ_FAULT_DSN", dsn)
	t.Cleanup(func() { deleteHost(t, env.API, host, group) })

	var out, errb bytes.Buffer
	if code := app.Main(ctx, []string{"install", "--config", cfgPath}, &out, &errb); code != app.ExitOK {
		t.Fatalf("install: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	client, err := sender.NewClient(sender.Options{Servers: []string{env.Server}, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The trapper accepts the host once it is in the configuration cache; a probe value far
	// in the past tells (it cannot collide with a clock of the runs below).
	probeClock := now.AddDate(0, -6, 0).Unix()
	accepted := func() bool {
		res, _ := client.Send(ctx, []sender.Item{{Host: host, Key: "moodle.general.instance", Value: "1", Clock: probeClock}})
		return res.Processed == 1
	}
	env.ReloadConfigCache(t)
	ztest.WaitFor(t, accepted, 60*time.Second)

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := newLogger(t)
	rt, err := app.NewRuntime(cfg, catalogue.Registry(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rt.LLDRetry = time.Second

	var (
		mu         sync.Mutex
		sent       []sentValue
		answered   int // values Zabbix answered while they were new
		spooled    int
		replayed   int
		runs       int
		spoolRuns  int
		splitRuns  int // runs with values both answered and spooled
		lld        int // discovery values (not kept in history)
		firstBurst []sentValue
	)
	runOnce := func(f measures.Family, at time.Time) app.Outcome {
		o := rt.RunFamily(ctx, "zbx", f, at, false)
		mu.Lock()
		defer mu.Unlock()
		runs++
		if o.Delivery.Failed > 0 || o.Burst.FailedKeys() > 0 {
			t.Errorf("%s at %s: %s, measures failed %v, refused %v, diagnosis %v", f, at.Format(time.RFC3339),
				o.Delivery, o.Burst.Failures, o.Delivery.FailedKeys, o.Diagnosis)
		}
		answered += o.Delivery.Processed
		spooled += o.Delivery.Spooled
		replayed += o.Delivery.Replayed
		if o.Delivery.Spooled > 0 {
			spoolRuns++
			if o.Delivery.Processed > 0 {
				splitRuns++
			}
		}
		for _, v := range o.Burst.Values {
			if v.Discovery {
				lld++
			} else {
				sent = append(sent, sentValue{v.Key, v.Value, v.Clock.Unix()})
			}
		}
		t.Logf("%-7s %s: %d values; %s", f, o.Burst.Window.To.Format(time.RFC3339), len(o.Burst.Values), o.Delivery)
		return o
	}

	// Every family once with the server up: discovery creates the prototype items, so that
	// later bursts carry values for items that exist.
	for _, f := range measures.Families {
		o := runOnce(f, now)
		if f == measures.Instant {
			for _, v := range o.Burst.Values {
				if !v.Discovery {
					firstBurst = append(firstBurst, sentValue{v.Key, v.Value, v.Clock.Unix()})
				}
			}
		}
	}

	// Bursts keep coming while the server stops under them.
	plan := &runPlan{now: now, count: map[measures.Family]int{}}
	stopped := make(chan struct{})
	twoDone := make(chan struct{})
	burstsDone := make(chan struct{})
	go func() {
		defer close(burstsDone)
		after, dailyAfter := 0, 0
		for i := 0; ; i++ {
			f, at := plan.next()
			runOnce(f, at)
			if i == 1 {
				close(twoDone)
			}
			select {
			case <-stopped:
				after++
				if f == measures.Daily {
					dailyAfter++
				}
			default:
			}
			if after >= 4 && dailyAfter > 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	<-twoDone
	stopAt := time.Now()
	env.StopServer(t)
	t.Logf("Zabbix server stopped in %v", time.Since(stopAt).Round(time.Millisecond))
	// During the outage, users move to a new authentication plugin: the daily runs from now on
	// discover it, and the values of its new items are spooled behind that discovery.
	if _, err := db.ExecContext(ctx, `UPDATE mdl_user SET auth = 'mzoutage' WHERE deleted = 0 AND auth = 'manual' ORDER BY id DESC LIMIT 6`); err != nil {
		t.Fatal(err)
	}
	close(stopped)
	<-burstsDone
	if spooled == 0 {
		t.Fatal("no value was spooled: the server stop did not hit the bursts")
	}
	env.StartServer(t)
	ztest.WaitFor(t, accepted, 60*time.Second)

	// The next run replays the spool first. Values of items that a spooled discovery creates
	// are refused until Zabbix has processed it and its configuration cache has caught up:
	// they stay in the spool, and the following runs offer them again.
	f, at := plan.next()
	o := runOnce(f, at)
	if o.Err != nil || o.Delivery.Replayed == 0 {
		t.Fatalf("run after the restart: replayed %d, err %v", o.Delivery.Replayed, o.Err)
	}
	kept := o.Delivery.ReplayHeld + o.ReportDelivery.ReplayHeld
	t.Logf("values kept for Zabbix to create their items: %d", kept)
	for tries := 0; o.Delivery.ReplayHeld+o.ReportDelivery.ReplayHeld > 0; tries++ {
		if tries == 20 {
			t.Fatalf("values of discovered items still refused after %d runs: %s", tries, o.Delivery)
		}
		env.ReloadConfigCache(t)
		time.Sleep(rt.LLDRetry + 100*time.Millisecond)
		f, at = plan.next()
		o = runOnce(f, at)
	}
	rt.Close()
	checkSpoolEmpty(t, spoolDir)

	items := hostItems(t, env.API, host)
	counts := historyCounts(t, env.API, items, sent)
	lost, duplicates := 0, 0
	for _, v := range sent {
		switch n := counts[historyKey{v.key, v.clock}]; {
		case n == 0:
			lost++
			t.Errorf("%s @%d = %s: not in Zabbix's history", v.key, v.clock, v.value)
		case n > 1:
			duplicates++
			t.Errorf("%s @%d: stored %d times", v.key, v.clock, n)
		}
	}

	// A replay after a crash may send values Zabbix already has, with the same clock and ns:
	// Zabbix must not store them again. Each item also gets a new value (30 s earlier) after
	// its repeat: once those are stored, the repeats have been dealt with (one item's values
	// are written in order).
	var again []sender.Item
	check := append([]sentValue(nil), firstBurst...)
	for _, v := range firstBurst {
		again = append(again, sender.Item{Host: host, Key: v.key, Value: v.value, Clock: v.clock})
	}
	for _, v := range firstBurst {
		again = append(again, sender.Item{Host: host, Key: v.key, Value: v.value, Clock: v.clock - 30})
		check = append(check, sentValue{v.key, v.value, v.clock - 30})
	}
	res, err := client.Send(ctx, again)
	if err != nil {
		t.Fatalf("send the first burst again: %v", err)
	}
	redelivered := historyCounts(t, env.API, items, check)
	storedTwice := 0
	for _, v := range firstBurst {
		if n := redelivered[historyKey{v.key, v.clock}]; n != 1 {
			storedTwice++
			t.Errorf("%s @%d: stored %d times after it was sent again", v.key, v.clock, n)
		}
	}
	t.Logf("sent %d stored values again: Zabbix answered %+v", len(again), res)
	figures(t, "zabbix-stop", "runs", runs, "runs_spooling", spoolRuns, "runs_split", splitRuns, "lld_values", lld, "sent", len(sent), "answered", answered,
		"spooled", spooled, "replayed", replayed, "kept_for_discovery", kept, "found", len(sent)-lost, "lost", lost, "duplicates", duplicates,
		"resent", len(firstBurst), "stored_twice", storedTwice)
}

// checkSpoolEmpty opens the only spool under dir and checks that nothing is pending.
func checkSpoolEmpty(t *testing.T, dir string) {
	t.Helper()
	// The directory holds one spool per destination and the self-monitoring state.
	all, err := os.ReadDir(dir)
	var entries []os.DirEntry
	for _, e := range all {
		if e.Name() != "state" {
			entries = append(entries, e)
		}
	}
	if err != nil || len(entries) != 1 || !entries[0].IsDir() {
		t.Fatalf("spool directory %s: %v (%d entries)", dir, err, len(entries))
	}
	sp, err := sender.OpenSpool(filepath.Join(dir, entries[0].Name()), sender.SpoolOptions{})
	if err != nil {
		t.Fatalf("reopen the spool: %v", err)
	}
	defer sp.Close()
	if d := sp.Depth(); d.Items != 0 || d.Records != 0 {
		t.Errorf("spool not empty: %+v", d)
	}
}

// hostItems returns the host's items by key.
func hostItems(t *testing.T, api *zabbixapi.Client, host string) map[string]zabbixapi.Item {
	t.Helper()
	ctx := context.Background()
	hs, err := api.HostGet(ctx, host)
	if err != nil || len(hs) != 1 {
		t.Fatalf("host.get %s: %v (%d hosts)", host, err, len(hs))
	}
	items, err := api.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hs[0].HostID}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]zabbixapi.Item{}
	for _, it := range items {
		out[it.Key] = it
	}
	return out
}

// historyKey is one stored value: an item key and a clock.
type historyKey struct {
	key   string
	clock int64
}

// historyCounts counts, for the items of vals, the values stored at each clock, waiting
// (up to a minute) until every value of vals is there: Zabbix writes history a moment after
// it answers. Values stored for clocks not in vals are counted too.
func historyCounts(t *testing.T, api *zabbixapi.Client, items map[string]zabbixapi.Item, vals []sentValue) map[historyKey]int {
	t.Helper()
	ctx := context.Background()
	byType := map[zabbixapi.ValueType][]string{}
	keyOf := map[string]string{}
	minClock, maxClock := int64(math.MaxInt64), int64(0)
	for _, v := range vals {
		it, ok := items[v.key]
		if !ok {
			t.Errorf("no item for key %s", v.key)
			continue
		}
		if _, seen := keyOf[it.ItemID]; !seen {
			byType[it.ValueType] = append(byType[it.ValueType], it.ItemID)
			keyOf[it.ItemID] = v.key
		}
		minClock, maxClock = min(minClock, v.clock), max(maxClock, v.clock)
	}
	var counts map[historyKey]int
	complete := func() bool {
		counts = map[historyKey]int{}
		for vt, ids := range byType {
			hist, err := api.HistoryGet(ctx, ids, vt, time.Unix(minClock, 0), time.Unix(maxClock, 0))
			if err != nil {
				t.Fatalf("history.get: %v", err)
			}
			for _, h := range hist {
				counts[historyKey{keyOf[h.ItemID], int64(h.Clock)}]++
			}
		}
		for _, v := range vals {
			if counts[historyKey{v.key, v.clock}] == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(time.Minute)
	for !complete() && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	return counts
}

// deleteHost removes the test's host and host group from Zabbix.
func deleteHost(t *testing.T, api *zabbixapi.Client, host, group string) {
	ctx := context.Background()
	if hs, err := api.HostGet(ctx, host); err == nil && len(hs) > 0 {
		if err := api.HostDelete(ctx, hs[0].HostID); err != nil {
			t.Logf("clean-up: host.delete %s: %v", host, err)
		}
	}
	if gs, err := api.HostGroupGet(ctx, group); err == nil && len(gs) > 0 {
		if err := api.HostGroupDelete(ctx, gs[0].GroupID); err != nil {
			t.Logf("clean-up: hostgroup.delete %s: %v", group, err)
		}
	}
}
