package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// TestReplicaServesHeavyFamilies: the primary is an empty database and the replica a whole
// site, so a family that reads the primary fails every measure and one that reads the replica
// has values. Instant and hourly read the primary, daily, weekly and monthly the replica.
func TestReplicaServesHeavyFamilies(t *testing.T) {
	now := time.Date(2026, 6, 3, 14, 37, 0, 0, time.UTC)
	replica := testSite(t, now)
	empty := filepath.Join(t.TempDir(), "empty.db")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, `zabbix:
  servers: ["127.0.0.1:1"]
  spool: {dir: %s}
sites:
  - {name: main, host: moodle-main, driver: sqlite, dsn: "%s", replica_dsn: "%s"}
`, filepath.Join(dir, "spool"), empty, replica), 0o600); err != nil {
		t.Fatal(err)
	}
	rt := openRuntime(t, cfgPath)
	for _, f := range measures.Families {
		o := rt.RunFamily(context.Background(), "main", f, now, true)
		onReplica := o.Burst.FailedKeys() == 0 && len(o.Burst.Values) > 0
		if onReplica != readsReplica(f) {
			t.Errorf("%s: %d values, %d measures failed: read the replica = %v, want %v",
				f, len(o.Burst.Values), o.Burst.FailedKeys(), onReplica, readsReplica(f))
		}
	}
}

// TestIdleConnections: scale.idle_connections decides whether a site's pool keeps its
// connection after a burst (1, the default) or closes it (0), so that a fleet larger than its
// database server's connection limit can run.
func TestIdleConnections(t *testing.T) {
	now := time.Date(2026, 6, 3, 14, 37, 0, 0, time.UTC)
	site := testSite(t, now)
	for _, tc := range []struct {
		scale string
		idle  int
	}{{"", 1}, {"scale: {idle_connections: 0}\n", 0}, {"scale: {idle_connections: 1}\n", 1}} {
		dir := t.TempDir()
		cfgPath := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfgPath, fmt.Appendf(nil, `zabbix:
  servers: ["127.0.0.1:1"]
  spool: {dir: %s}
%ssites:
  - {name: main, host: moodle-main, driver: sqlite, dsn: "%s"}
`, filepath.Join(dir, "spool"), tc.scale, site), 0o600); err != nil {
			t.Fatal(err)
		}
		rt := openRuntime(t, cfgPath)
		o := rt.RunFamily(context.Background(), "main", measures.Instant, now, true)
		if len(o.Burst.Values) == 0 || o.Burst.FailedKeys() > 0 {
			t.Fatalf("%q: burst has %d values, %d failed", tc.scale, len(o.Burst.Values), o.Burst.FailedKeys())
		}
		if got := rt.sites[0].db.Stats().Idle; got != tc.idle {
			t.Errorf("%q: %d idle connections after the burst, want %d", tc.scale, got, tc.idle)
		}
	}
}
