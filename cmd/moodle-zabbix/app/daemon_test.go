package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/scheduler"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// TestDaemonEntries: one entry per site and family on the configured specs in the site's
// zone; firing a healthy site's entry delivers its values even while another site's database
// is unreachable, and the failing site backs off instead of blocking.
func TestDaemonEntries(t *testing.T) {
	now := time.Now()
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfgText := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
schedules:
  hourly: "7 * * * *"
scale: {jitter: 0s}
sites:
  - {name: good, host: moodle-good, driver: sqlite, dsn: "%s", timezone: Asia/Kolkata}
  - {name: down, host: moodle-down, driver: mysql, dsn: "u:p@tcp(127.0.0.1:1)/moodle?timeout=1s"}
`, trapper.Addr, filepath.Join(dir, "spool"), testSite(t, now))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	rt := openRuntime(t, cfgPath)
	s, err := DaemonScheduler(rt, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]scheduler.EntryInfo{}
	for _, e := range s.Entries() {
		entries[e.Name] = e
	}
	if len(entries) != 10 {
		t.Fatalf("%d entries, want 5 families x 2 sites: %v", len(entries), entries)
	}
	if e := entries["good/hourly"]; e.Spec != "7 * * * *" || e.Location.String() != "Asia/Kolkata" {
		t.Errorf("good/hourly: spec %q in %s, want the override in the site's zone", e.Spec, e.Location)
	}
	if e := entries["down/daily"]; e.Spec != "5 0 * * *" {
		t.Errorf("down/daily: spec %q, want the default", e.Spec)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	down, err := s.Trigger("down/instant", now)
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.Trigger("good/instant", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Wait(); err != nil {
		t.Fatalf("healthy site: %v", err)
	}
	if len(trapper.Items()) == 0 {
		t.Fatal("the healthy site's values did not arrive")
	}
	err = down.Wait()
	for _, it := range trapper.Items() {
		// Only the self-monitoring values, which need no database, come from the down site.
		if it.Host != "moodle-good" && !strings.HasPrefix(it.Key, "moodle.self.") {
			t.Errorf("value %s for %s, whose database is down", it.Key, it.Host)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "connect to the database") || strings.Contains(err.Error(), "u:p@") {
		t.Errorf("down site: error %v, want the connection failure without the DSN", err)
	}
	// After repeated failures the entry backs off.
	for i := 0; i < 3; i++ {
		r, err := s.Trigger("down/instant", now.Add(time.Duration(i+1)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Wait()
	}
	if st := s.Stats()["down/instant"]; st.SkippedBackoff == 0 {
		t.Errorf("no backoff after repeated failures: %+v", st)
	}
}
