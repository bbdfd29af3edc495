package app

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

func accept(req sendertest.Request) sendertest.Reply { return sendertest.Reply{} }

// TestProxyRouterSplitsByHost: one burst of three hosts goes to the server (host a), to a
// passive proxy at the address the API gives (host b) and to an active proxy at its configured
// address (host c); host d, on an active proxy with no address, is undelivered with a message
// naming the setting. Routes are read once for all hosts and again after the refresh period.
func TestProxyRouterSplitsByHost(t *testing.T) {
	server := sendertest.NewServer(accept)
	defer server.Close()
	passive := sendertest.NewServer(accept)
	defer passive.Close()
	active := sendertest.NewServer(accept)
	defer active.Close()

	var lookups atomic.Int32
	lookup := func(ctx context.Context, hosts ...string) ([]zabbixapi.HostRoute, error) {
		lookups.Add(1)
		if len(hosts) != 4 {
			t.Errorf("lookup of %v, want the 4 configured hosts at once", hosts)
		}
		return []zabbixapi.HostRoute{
			{Host: "a"},
			{Host: "b", Proxy: "px-passive", Proxies: []zabbixapi.ProxyInfo{{Name: "px-passive", Passive: true, Address: passive.Addr}}},
			{Host: "c", Proxy: "px-active", Proxies: []zabbixapi.ProxyInfo{{Name: "px-active"}}},
			{Host: "d", Proxy: "px-lost", Proxies: []zabbixapi.ProxyInfo{{Name: "px-lost"}}},
		}, nil
	}
	servers, err := sender.NewClient(sender.Options{Servers: []string{server.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	r := newProxyRouter(servers, sender.Options{Timeout: 2 * time.Second},
		config.Proxies{Route: true, Refresh: time.Minute, Addresses: map[string]string{"px-active": active.Addr}},
		[]string{"a", "b", "c", "d"}, lookup, testLogger(t))
	clock := time.Date(2026, 6, 3, 14, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }

	items := []sender.Item{
		{Host: "a", Key: "k", Value: "1"}, {Host: "b", Key: "k", Value: "2"},
		{Host: "c", Key: "k", Value: "3"}, {Host: "d", Key: "k", Value: "4"}, {Host: "b", Key: "k2", Value: "5"},
	}
	res, err := r.Send(context.Background(), items)
	if res.Processed != 4 {
		t.Errorf("processed %d, want 4", res.Processed)
	}
	var de *sender.DeliveryError
	if !errors.As(err, &de) || len(de.Undelivered) != 1 || de.Undelivered[0].Host != "d" ||
		!strings.Contains(err.Error(), `zabbix.proxies.addresses["px-lost"]`) {
		t.Fatalf("err = %v, want host d undelivered, naming its proxy's setting", err)
	}
	got := func(s *sendertest.Server) string {
		var vals []string
		for _, it := range s.Items() {
			vals = append(vals, it.Host+"="+it.Value)
		}
		return strings.Join(vals, ",")
	}
	if g := got(server); g != "a=1" {
		t.Errorf("server got %s", g)
	}
	if g := got(passive); g != "b=2,b=5" {
		t.Errorf("passive proxy got %s", g)
	}
	if g := got(active); g != "c=3" {
		t.Errorf("active proxy got %s", g)
	}

	r.Send(context.Background(), items[:1])
	if n := lookups.Load(); n != 1 {
		t.Errorf("%d lookups within the refresh period, want 1", n)
	}
	clock = clock.Add(time.Minute)
	r.Send(context.Background(), items[:1])
	if n := lookups.Load(); n != 2 {
		t.Errorf("%d lookups after the refresh period, want 2", n)
	}
}

// TestProxyRouterDeadProxy: a proxy that does not answer costs one timeout; the next sends
// for its hosts fail at once (their values go to the spool) while the other hosts' values
// are delivered without delay, and the proxy is tried again after proxyDownFor.
func TestProxyRouterDeadProxy(t *testing.T) {
	server := sendertest.NewServer(accept)
	defer server.Close()
	dead := sendertest.NewServer(func(sendertest.Request) sendertest.Reply { return sendertest.Reply{Hang: true} })
	defer dead.Close()
	lookup := func(ctx context.Context, hosts ...string) ([]zabbixapi.HostRoute, error) {
		return []zabbixapi.HostRoute{{Host: "a"}, {Host: "b", Proxy: "px", Proxies: []zabbixapi.ProxyInfo{{Name: "px", Passive: true, Address: dead.Addr}}}}, nil
	}
	servers, _ := sender.NewClient(sender.Options{Servers: []string{server.Addr}})
	r := newProxyRouter(servers, sender.Options{Timeout: 300 * time.Millisecond}, config.Proxies{Route: true, Refresh: time.Hour},
		[]string{"a", "b"}, lookup, testLogger(t))
	clock := time.Now()
	r.now = func() time.Time { return clock }
	items := []sender.Item{{Host: "a", Key: "k", Value: "1"}, {Host: "b", Key: "k", Value: "2"}}

	start := time.Now()
	res, err := r.Send(context.Background(), items)
	first := time.Since(start)
	var de *sender.DeliveryError
	if res.Processed != 1 || !errors.As(err, &de) || len(de.Undelivered) != 1 || first < 300*time.Millisecond {
		t.Fatalf("first send: %v, %v after %v: want a delivered, b undelivered after the timeout", res, err, first)
	}
	for range 5 {
		start = time.Now()
		res, err = r.Send(context.Background(), items)
		if took := time.Since(start); took > 200*time.Millisecond {
			t.Errorf("send while the proxy is down took %v: it must not dial it again", took)
		}
		if res.Processed != 1 || !errors.As(err, &de) || de.Undelivered[0].Host != "b" {
			t.Errorf("send while the proxy is down: %v, %v", res, err)
		}
	}
	conns := dead.Connections()
	clock = clock.Add(proxyDownFor)
	r.Send(context.Background(), items)
	if dead.Connections() != conns+1 {
		t.Errorf("the proxy was not tried again after %v", proxyDownFor)
	}
}

// TestProxyRouterKeepsRoutesWhenAPIFails: before any answer the servers receive everything;
// after one, an API failure keeps the known routes.
func TestProxyRouterKeepsRoutesWhenAPIFails(t *testing.T) {
	server := sendertest.NewServer(accept)
	defer server.Close()
	proxy := sendertest.NewServer(accept)
	defer proxy.Close()
	fail := true
	lookup := func(ctx context.Context, hosts ...string) ([]zabbixapi.HostRoute, error) {
		if fail {
			return nil, errors.New("api down")
		}
		return []zabbixapi.HostRoute{{Host: "b", Proxy: "px", Proxies: []zabbixapi.ProxyInfo{{Name: "px", Passive: true, Address: proxy.Addr}}}}, nil
	}
	servers, _ := sender.NewClient(sender.Options{Servers: []string{server.Addr}})
	r := newProxyRouter(servers, sender.Options{}, config.Proxies{Route: true, Refresh: time.Minute}, []string{"b"}, lookup, testLogger(t))
	clock := time.Now()
	r.now = func() time.Time { return clock }
	item := []sender.Item{{Host: "b", Key: "k", Value: "1"}}
	if _, err := r.Send(context.Background(), item); err != nil || len(server.Items()) != 1 {
		t.Fatalf("before any route: err %v, server got %d values", err, len(server.Items()))
	}
	fail = false
	clock = clock.Add(time.Minute)
	r.Send(context.Background(), item)
	fail = true
	clock = clock.Add(time.Minute)
	r.Send(context.Background(), item)
	if len(proxy.Items()) != 2 || len(server.Items()) != 1 {
		t.Errorf("proxy got %d, server %d values; want 2 and 1", len(proxy.Items()), len(server.Items()))
	}
}
