package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fleetConfig returns a configuration with n sites named site-0001 ..., with shard labels
// from label(i) when label is not nil.
func fleetConfig(t *testing.T, n int, label func(i int) string) *Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("zabbix:\n  servers: [zbx]\nsites:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: site-%04d, host: moodle-%04d, driver: mysql, dsn: env:MOODLE_DSN", i, i)
		if label != nil {
			fmt.Fprintf(&b, ", shard: %s", label(i))
		}
		b.WriteString("}\n")
	}
	return mustParse(t, b.String())
}

// TestShardsCoverEverySiteOnce splits 5,000 sites over several numbers of daemons and checks
// that every site runs in exactly one of them, and that the shards are not lopsided.
func TestShardsCoverEverySiteOnce(t *testing.T) {
	c := fleetConfig(t, 5000, nil)
	for _, n := range []int{1, 2, 3, 7, 16} {
		seen := map[string]int{}
		smallest, largest := len(c.Sites), 0
		for i := 1; i <= n; i++ {
			sites, err := c.SelectShard(fmt.Sprintf("%d/%d", i, n))
			if err != nil {
				t.Fatalf("%d/%d: %v", i, n, err)
			}
			smallest, largest = min(smallest, len(sites)), max(largest, len(sites))
			for _, s := range sites {
				seen[s.Name]++
			}
		}
		for _, s := range c.Sites {
			if seen[s.Name] != 1 {
				t.Errorf("n=%d: site %s runs in %d shards, want 1", n, s.Name, seen[s.Name])
			}
		}
		if len(seen) != len(c.Sites) {
			t.Errorf("n=%d: %d sites selected, want %d", n, len(seen), len(c.Sites))
		}
		// A fair hash keeps every shard within 20% of the mean at this size.
		mean := len(c.Sites) / n
		if n > 1 && (smallest < mean*8/10 || largest > mean*12/10) {
			t.Errorf("n=%d: shard sizes %d..%d, mean %d", n, smallest, largest, mean)
		}
	}
}

func TestShardLabels(t *testing.T) {
	c := fleetConfig(t, 30, func(i int) string { return []string{"east", "west", "north"}[i%3] })
	seen := map[string]int{}
	for _, l := range []string{"east", "west", "north"} {
		sites, err := c.SelectShard(l)
		if err != nil {
			t.Fatal(err)
		}
		if len(sites) != 10 {
			t.Errorf("%s: %d sites, want 10", l, len(sites))
		}
		for _, s := range sites {
			if s.Shard != l {
				t.Errorf("%s: got site %s of shard %s", l, s.Name, s.Shard)
			}
			seen[s.Name]++
		}
	}
	if len(seen) != 30 {
		t.Errorf("labels cover %d sites, want 30", len(seen))
	}
	if _, err := c.SelectShard("south"); !errors.Is(err, ErrShard) || !strings.Contains(err.Error(), "east, north, west") {
		t.Errorf("unknown label: err = %v, want ErrShard listing the labels", err)
	}
	for _, bad := range []string{"0/3", "4/3", "1/0", "a/b", "1/2/3"} {
		if _, err := c.SelectShard(bad); !errors.Is(err, ErrShard) {
			t.Errorf("%q: err = %v, want ErrShard", bad, err)
		}
	}
}

func TestShardLabelsAllOrNone(t *testing.T) {
	src := `zabbix: {servers: [zbx]}
sites:
  - {name: a, host: ha, driver: mysql, dsn: env:MOODLE_DSN, shard: east}
  - {name: b, host: hb, driver: mysql, dsn: env:MOODLE_DSN}
`
	_, err := Parse("config.yaml", []byte(src), testEnv)
	if err == nil || !strings.Contains(err.Error(), `config.yaml:4: sites[1].name: site "b" has no shard label`) {
		t.Errorf("err = %v, want the unlabelled site named with its line", err)
	}
}

func TestJitterIsStableAndSpread(t *testing.T) {
	const jitter = 40 * time.Second
	seconds := map[int]int{}
	for i := range 1000 {
		name := fmt.Sprintf("site-%04d", i)
		d := JitterOf(name, jitter)
		if d < 0 || d >= jitter {
			t.Fatalf("%s: offset %v outside [0, %v)", name, d, jitter)
		}
		if JitterOf(name, jitter) != d {
			t.Fatalf("%s: offset changes between calls", name)
		}
		seconds[int(d/time.Second)]++
	}
	// 1,000 sites over 40 one-second slots: 25 a slot on average; none should hold more
	// than three times that, and none should be empty.
	for s := range 40 {
		if seconds[s] == 0 || seconds[s] > 75 {
			t.Errorf("second %d holds %d sites", s, seconds[s])
		}
	}
	if JitterOf("x", 0) != 0 {
		t.Error("jitter 0 must give offset 0")
	}
}

func TestScaleAndProxiesSections(t *testing.T) {
	c := mustParse(t, minimal)
	if c.Scale.MaxConcurrentSites != DefaultMaxConcurrentSites || c.Scale.Jitter != DefaultJitter || c.Scale.IdleConnections != DefaultIdleConnections || c.Zabbix.Proxies != nil {
		t.Errorf("defaults: scale %+v, proxies %v", c.Scale, c.Zabbix.Proxies)
	}
	c = mustParse(t, minimal+"scale: {jitter: 0s, max_concurrent_sites: 4, idle_connections: 0}\n")
	if c.Scale.Jitter != 0 || c.Scale.MaxConcurrentSites != 4 || c.Scale.IdleConnections != 0 {
		t.Errorf("explicit: %+v", c.Scale)
	}
	src := `zabbix:
  servers: [zbx]
  api: {url: "http://zbx/api_jsonrpc.php", token: env:ZABBIX_API_TOKEN}
  proxies:
    route: true
    addresses: {proxy-eu: "10.0.0.5", proxy-us: "10.1.0.5:10061"}
sites:
  - {name: a, host: ha, driver: mysql, dsn: env:MOODLE_DSN, replica_dsn: env:MOODLE_DSN}
`
	c = mustParse(t, src)
	p := c.Zabbix.Proxies
	if !p.Route || p.Addresses["proxy-eu"] != "10.0.0.5:10051" || p.Addresses["proxy-us"] != "10.1.0.5:10061" || p.Refresh != DefaultProxyRefresh {
		t.Errorf("proxies: %+v", p)
	}
	if c.Sites[0].ReplicaDSN.Reveal() != "moodle:pw@tcp(db)/moodle" {
		t.Error("replica_dsn not resolved")
	}

	for _, tc := range []struct{ src, want string }{
		{minimal + "scale: {jitter: 60s}\n", "config.yaml:8: scale.jitter: 1m0s: must be under 1m"},
		{minimal + "scale: {max_concurrent_sites: -1}\n", "scale.max_concurrent_sites: -1: must be positive"},
		{minimal + "scale: {idle_connections: 2}\n", "config.yaml:8: scale.idle_connections: 2: must be 0 or 1"},
		{strings.Replace(src, "  api: {url: \"http://zbx/api_jsonrpc.php\", token: env:ZABBIX_API_TOKEN}\n", "", 1), "zabbix.proxies.route: needs zabbix.api"},
		{strings.Replace(src, `"10.0.0.5"`, `"10.0.0.5:99999"`, 1), `zabbix.proxies.addresses["proxy-eu"]: "10.0.0.5:99999": invalid port`},
		{strings.Replace(src, "replica_dsn: env:MOODLE_DSN", "replica_dsn: env:NOPE", 1), "sites[0].replica_dsn"},
	} {
		_, err := Parse("config.yaml", []byte(tc.src), testEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v\nwant %q", err, tc.want)
		}
	}
}
