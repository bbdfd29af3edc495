package config

import (
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults of the scale and proxies sections.
const (
	// DefaultMaxConcurrentSites bounds the bursts that run at once in one process.
	DefaultMaxConcurrentSites = 16
	// DefaultJitter is the spread of the sites' start offsets after each scheduled time.
	DefaultJitter = 40 * time.Second
	// DefaultIdleConnections is how many connections each site's pool keeps between bursts.
	DefaultIdleConnections = 1
	// DefaultProxyRefresh is how often the proxy of each host is asked again.
	DefaultProxyRefresh = 5 * time.Minute
)

// Proxies makes the sender deliver each host's values to the Zabbix proxy that monitors it,
// as the Zabbix API says, instead of to zabbix.servers.
type Proxies struct {
	// Route turns the routing on; it needs zabbix.api.
	Route bool `yaml:"route"`
	// Addresses maps proxy names to the host[:port] where each proxy listens for trapper
	// connections (its ListenIP and ListenPort). Required for an active proxy outside a proxy
	// group: the API does not know where it listens. A passive proxy's interface, or a 7.0
	// proxy's local address, is used when its name is not listed.
	Addresses map[string]string `yaml:"addresses"`
	// Refresh is how often the routes are read again from the API; default 5m.
	Refresh time.Duration `yaml:"refresh"`
}

// Scale bounds what one process runs at once and spreads its bursts over time.
type Scale struct {
	// MaxConcurrentSites is the most bursts (of any site and family) running at once;
	// default 16. Each site also has its own database pool of 2 connections.
	MaxConcurrentSites int `yaml:"max_concurrent_sites"`
	// Jitter spreads the bursts: each site starts a fixed offset after every scheduled time,
	// derived from its name and below Jitter (default 40s; 0s starts every site on time).
	// The values keep the scheduled time's window and clock.
	Jitter time.Duration `yaml:"jitter"`
	// IdleConnections is how many database connections each site keeps open between bursts:
	// 1 (the default) or 0, which connects for every burst, for a fleet whose database server
	// accepts fewer connections than the process has sites.
	IdleConnections int `yaml:"idle_connections"`
}

func (v *validator) scale(c *Config) {
	s := &c.Scale
	switch {
	case s.MaxConcurrentSites < 0:
		v.addf("scale.max_concurrent_sites", "%d: must be positive", s.MaxConcurrentSites)
	case s.MaxConcurrentSites == 0:
		s.MaxConcurrentSites = DefaultMaxConcurrentSites
	}
	switch {
	case s.Jitter < 0:
		v.addf("scale.jitter", "%v: must be positive (0s turns it off)", s.Jitter)
	case s.Jitter >= time.Minute:
		v.addf("scale.jitter", "%v: must be under 1m, so that an instant burst still runs in its minute", s.Jitter)
	case s.Jitter == 0 && !v.ix.has("scale.jitter"):
		s.Jitter = DefaultJitter
	}
	switch {
	case s.IdleConnections < 0 || s.IdleConnections > 1:
		v.addf("scale.idle_connections", "%d: must be 0 or 1", s.IdleConnections)
	case s.IdleConnections == 0 && !v.ix.has("scale.idle_connections"):
		s.IdleConnections = DefaultIdleConnections
	}
	// Explicit shards: all sites or none, so that one daemon per label leaves no site out.
	labelled, first := 0, -1
	for i, site := range c.Sites {
		if site.Shard != "" {
			labelled++
		} else if first < 0 {
			first = i
		}
	}
	if labelled > 0 && first >= 0 {
		v.addf(fmt.Sprintf("sites[%d].name", first), "site %q has no shard label while %d other sites have one: give every site a shard, or none", c.Sites[first].Name, labelled)
	}
	if z := c.Zabbix.Proxies; z != nil {
		v.proxies(z, c.Zabbix.API != nil, c.Zabbix.SenderFile() != "")
	}
}

func (v *validator) siteScale(p string, s *Site) {
	v.secret(p+".replica_dsn", &s.ReplicaDSN)
	if s.Shard != "" && (strings.TrimSpace(s.Shard) != s.Shard || strings.Contains(s.Shard, "/")) {
		v.addf(p+".shard", "%q: a shard label has no surrounding space and no /", s.Shard)
	}
}

func (v *validator) proxies(z *Proxies, api, senderFile bool) {
	if z.Route && !api {
		v.addf("zabbix.proxies.route", "needs zabbix.api: the API says which proxy monitors each host")
	}
	if z.Route && senderFile {
		v.addf("zabbix.proxies.route", "not used with a sender-file output")
	}
	names := make([]string, 0, len(z.Addresses))
	for n := range z.Addresses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		addr, err := normalizeServer(z.Addresses[n])
		if err != nil {
			v.addf(childPath("zabbix.proxies.addresses", n), "%q: %v", z.Addresses[n], err)
			continue
		}
		z.Addresses[n] = addr
	}
	v.duration("zabbix.proxies.refresh", &z.Refresh, DefaultProxyRefresh)
}

// ErrShard is wrapped by SelectShard for a shard specification it cannot use.
var ErrShard = errors.New("bad shard")

// SelectShard returns the sites one daemon of a sharded fleet runs. spec is either "I/N"
// (1 <= I <= N): the sites whose name hashes (FNV-1a, 32 bits) to I-1 modulo N, so N daemons
// started with 1/N ... N/N run every site exactly once; or a label: the sites whose shard is
// that label. An empty spec returns every site.
func (c *Config) SelectShard(spec string) ([]Site, error) {
	if spec == "" {
		return c.Sites, nil
	}
	if i, n, ok := parseShardIndex(spec); ok {
		var out []Site
		for _, s := range c.Sites {
			if ShardOf(s.Name, n) == i-1 {
				out = append(out, s)
			}
		}
		return out, nil
	}
	if strings.Contains(spec, "/") {
		return nil, fmt.Errorf("%w %q: want I/N with 1 <= I <= N, or a shard label", ErrShard, spec)
	}
	var out []Site
	labels := map[string]bool{}
	for _, s := range c.Sites {
		labels[s.Shard] = true
		if s.Shard == spec {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		var have []string
		for l := range labels {
			if l != "" {
				have = append(have, l)
			}
		}
		sort.Strings(have)
		return nil, fmt.Errorf("%w %q: no site of %s has this shard label (labels: %s)", ErrShard, spec, c.file, strings.Join(have, ", "))
	}
	return out, nil
}

// ShardOf returns the shard, in [0, n), of the site named name among n hash shards.
func ShardOf(name string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % uint32(n))
}

func parseShardIndex(spec string) (i, n int, ok bool) {
	a, b, found := strings.Cut(spec, "/")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, false
	}
	return i, n, true
}

// JitterOf returns the fixed start offset of the site named name, in [0, jitter): the same
// at every run and in every process, different from site to site.
func JitterOf(name string, jitter time.Duration) time.Duration {
	if jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte("jitter:" + name))
	return time.Duration(h.Sum64() % uint64(jitter))
}
