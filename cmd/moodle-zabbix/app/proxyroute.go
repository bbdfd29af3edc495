package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// proxyDownFor is how long a proxy that did not answer is not dialled again: values for its
// hosts go straight to the spool meanwhile, so that one dead proxy costs one timeout, not one
// per site.
const proxyDownFor = 30 * time.Second

// routeLookup returns who receives the values of each host (zabbixapi.Client.HostRoutes).
type routeLookup func(ctx context.Context, hosts ...string) ([]zabbixapi.HostRoute, error)

// proxyRouter is a sender.Sender that delivers each host's values where Zabbix wants them: to
// the proxy that monitors the host (or a proxy of its 7.0 proxy group), else to the configured
// servers. Routes come from the Zabbix API, read for every configured host at once and again
// every zabbix.proxies.refresh. When the API cannot be read, the last known routes are kept
// (the servers before the first answer). A host whose proxy has no known listen address gets
// a *sender.DeliveryError that names the missing setting, so its values are spooled, not lost,
// and delivered once the configuration is fixed.
type proxyRouter struct {
	servers sender.Sender  // zabbix.servers
	opts    sender.Options // template of the per-proxy clients
	cfg     config.Proxies
	hosts   []string // every configured host, looked up together
	lookup  routeLookup
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	routes  map[string]hostRoute // by host
	fetched time.Time
	clients map[string]*sender.Client // by proxy address
	down    map[string]time.Time      // proxy address -> not dialled before
}

// hostRoute is where one host's values go: addr "" means the configured servers.
type hostRoute struct {
	addr string
	via  string // "proxy NAME" or "proxy group NAME", for messages
	err  error  // the proxy's address is unknown
}

func newProxyRouter(servers sender.Sender, opts sender.Options, cfg config.Proxies, hosts []string, lookup routeLookup, log *slog.Logger) *proxyRouter {
	return &proxyRouter{
		servers: servers, opts: opts, cfg: cfg, hosts: hosts, lookup: lookup, log: log, now: time.Now,
		routes: map[string]hostRoute{}, clients: map[string]*sender.Client{}, down: map[string]time.Time{},
	}
}

// refresh reads the routes again when they are older than the refresh period or a host is
// unknown. Callers hold r.mu.
func (r *proxyRouter) refresh(ctx context.Context, hosts []string) {
	stale := r.fetched.IsZero() || r.now().Sub(r.fetched) >= r.cfg.Refresh
	all := r.hosts
	for _, h := range hosts {
		if _, ok := r.routes[h]; !ok && !stale {
			stale = true
		}
		if !contains(all, h) {
			all = append(all[:len(all):len(all)], h)
		}
	}
	if !stale {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	found, err := r.lookup(lctx, all...)
	r.fetched = r.now() // also after a failure: ask again after the refresh period, not at every send
	if err != nil {
		r.log.Warn("cannot read which proxy monitors each host; keeping the last known routes", "err", err)
		return
	}
	routes := map[string]hostRoute{}
	for _, hr := range found {
		routes[hr.Host] = r.route(hr)
	}
	for h, old := range r.routes {
		if _, ok := routes[h]; !ok {
			routes[h] = old // not in Zabbix now: keep what was known
		}
	}
	for h, nr := range routes {
		if old, ok := r.routes[h]; !ok || old.addr != nr.addr || (old.err == nil) != (nr.err == nil) {
			if nr.via != "" {
				r.log.Info("values of the host go through its proxy", "host", h, "via", nr.via, "address", nr.addr)
			} else if ok {
				r.log.Info("values of the host go to the servers again", "host", h)
			}
		}
	}
	r.routes = routes
}

// route picks the address for one host: the configured address of its proxy first, else what
// the API knows (a passive proxy's interface, a 7.0 proxy's local address).
func (r *proxyRouter) route(hr zabbixapi.HostRoute) hostRoute {
	if !hr.ViaProxy() {
		return hostRoute{}
	}
	via := "proxy " + hr.Proxy
	if hr.ProxyGroup != "" {
		via = "proxy group " + hr.ProxyGroup
	}
	var names []string
	for _, p := range hr.Proxies {
		if a := r.cfg.Addresses[p.Name]; a != "" {
			return hostRoute{addr: a, via: via}
		}
		names = append(names, p.Name)
	}
	for _, p := range hr.Proxies {
		if p.Address != "" {
			return hostRoute{addr: p.Address, via: via}
		}
	}
	if len(names) == 0 {
		return hostRoute{via: via, err: fmt.Errorf("host %s is monitored by %s, which has no proxy: assign one in Zabbix", hr.Host, via)}
	}
	return hostRoute{via: via, err: fmt.Errorf("host %s is monitored by %s, whose listen address the Zabbix API does not give (an active proxy): set zabbix.proxies.addresses[%q] to its host:port", hr.Host, via, names[0])}
}

// Send delivers items, each host's values to its destination. The result sums every
// destination's answers; the error joins them, with one *sender.DeliveryError listing every
// value no destination answered and one *sender.PartialError for the refused counts.
func (r *proxyRouter) Send(ctx context.Context, items []sender.Item) (sender.Result, error) {
	if len(items) == 0 {
		return sender.Result{}, nil
	}
	type group struct {
		route hostRoute
		items []sender.Item
	}
	var order []string
	groups := map[string]*group{}
	r.mu.Lock()
	var hosts []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.Host] {
			seen[it.Host] = true
			hosts = append(hosts, it.Host)
		}
	}
	r.refresh(ctx, hosts)
	for _, it := range items {
		rt := r.routes[it.Host]
		k := rt.addr
		if rt.err != nil {
			k = "!" + it.Host
		}
		g := groups[k]
		if g == nil {
			g = &group{route: rt}
			groups[k] = g
			order = append(order, k)
		}
		g.items = append(g.items, it)
	}
	r.mu.Unlock()

	var total sender.Result
	var undelivered []sender.Item
	var causes, others []error
	lastServer := ""
	for _, k := range order {
		g := groups[k]
		res, err := r.sendTo(ctx, g.route, g.items)
		total.Add(res)
		var de *sender.DeliveryError
		for _, e := range flatten(err) {
			var pe *sender.PartialError
			switch {
			case errors.As(e, &de):
				undelivered = append(undelivered, de.Undelivered...)
				causes = append(causes, de.Err)
				lastServer = de.Server
			case errors.As(e, &pe):
				// counted in total; one PartialError for all is added below
			default:
				others = append(others, e)
			}
		}
	}
	if total.Failed > 0 {
		others = append(others, &sender.PartialError{Result: total})
	}
	if len(undelivered) > 0 {
		others = append(others, &sender.DeliveryError{Server: lastServer, Err: errors.Join(causes...), Undelivered: undelivered})
	}
	return total, errors.Join(others...)
}

// sendTo sends one destination's items.
func (r *proxyRouter) sendTo(ctx context.Context, rt hostRoute, items []sender.Item) (sender.Result, error) {
	if rt.err != nil {
		return sender.Result{}, &sender.DeliveryError{Server: rt.via, Err: rt.err, Undelivered: items}
	}
	if rt.addr == "" {
		return r.servers.Send(ctx, items)
	}
	r.mu.Lock()
	if until, ok := r.down[rt.addr]; ok && r.now().Before(until) {
		r.mu.Unlock()
		return sender.Result{}, &sender.DeliveryError{Server: rt.addr, Undelivered: items,
			Err: fmt.Errorf("%s at %s did not answer a moment ago; retried after %s", rt.via, rt.addr, until.Format(time.TimeOnly))}
	}
	c := r.clients[rt.addr]
	if c == nil {
		opts := r.opts
		opts.Servers = []string{rt.addr}
		var err error
		if c, err = sender.NewClient(opts); err != nil {
			r.mu.Unlock()
			return sender.Result{}, &sender.DeliveryError{Server: rt.addr, Err: fmt.Errorf("%s: %w", rt.via, err), Undelivered: items}
		}
		r.clients[rt.addr] = c
	}
	r.mu.Unlock()
	res, err := c.Send(ctx, items)
	var de *sender.DeliveryError
	if errors.As(err, &de) && ctx.Err() == nil {
		r.mu.Lock()
		r.down[rt.addr] = r.now().Add(proxyDownFor)
		r.mu.Unlock()
		r.log.Warn("proxy did not answer; its hosts' values are spooled", "via", rt.via, "address", rt.addr, "err", de.Err)
	} else if err == nil || !errors.As(err, &de) {
		r.mu.Lock()
		delete(r.down, rt.addr)
		r.mu.Unlock()
	}
	return res, err
}

// flatten lists the errors joined in err (err itself when it joins nothing).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// routeThroughProxies wraps the runtime's sender in a proxyRouter when zabbix.proxies.route is
// on. The spool stays one per configured servers: replayed values are routed again, so they
// reach the proxy that monitors their host at replay time.
func (rt *Runtime) routeThroughProxies() error {
	p := rt.cfg.Zabbix.Proxies
	if p == nil || !p.Route || rt.cfg.Zabbix.SenderFile() != "" {
		return nil
	}
	api, err := newAPI(rt.cfg)
	if err != nil {
		return err
	}
	if api == nil {
		return errors.New("zabbix.proxies.route: needs zabbix.api")
	}
	opts, err := senderOptions(rt.cfg)
	if err != nil {
		return err
	}
	hosts := make([]string, len(rt.cfg.Sites))
	for i, s := range rt.cfg.Sites {
		hosts[i] = s.Host
	}
	rt.client = newProxyRouter(rt.client, opts, *p, hosts, api.HostRoutes, rt.log)
	return nil
}
