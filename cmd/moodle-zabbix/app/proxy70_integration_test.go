package app

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// TestProxyGroupRedirect70 puts a host in a Zabbix 7.0 proxy group whose one proxy runs beside
// the 7.0 test server (scripts/zabbix70-proxy.sh). Values sent to the server come back with a
// redirect to that proxy, which the sender follows; the router, told by the API that the host
// belongs to the group, sends to the proxy's local address directly. Both reach the server's
// history. It needs the 7.0 server (MZ_ZABBIX70_SERVER, MZ_ZABBIX70_API) and is skipped,
// visibly, where it is not set up.
func TestProxyGroupRedirect70(t *testing.T) {
	if os.Getenv("MZ_ZABBIX70_API") == "" {
		t.Skip("MZ_ZABBIX70_API is not set: no Zabbix 7.0 server here")
	}
	vars := ztest.Require(t, "MZ_ZABBIX70_SERVER", "MZ_ZABBIX70_API", "MZ_ZABBIX_USER", "MZ_ZABBIX_PASSWORD")
	proxyAddr := os.Getenv("MZ_ZABBIX_PROXY70")
	if proxyAddr == "" {
		proxyAddr = "127.0.0.1:10072"
	}
	proxyName := os.Getenv("MZ_ZABBIX_PROXY70_NAME")
	if proxyName == "" {
		proxyName = "moodle-zabbix-ci-proxy70"
	}
	ctx := context.Background()
	api, err := zabbixapi.New(vars["MZ_ZABBIX70_API"], zabbixapi.Options{Username: vars["MZ_ZABBIX_USER"], Password: vars["MZ_ZABBIX_PASSWORD"]})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Login(ctx); err != nil {
		t.Fatal(err)
	}
	defer api.Logout(context.Background())
	if v, err := api.Version(ctx); err != nil || !v.AtLeast(7, 0) {
		t.Fatalf("MZ_ZABBIX70_API answers version %v (%v), want 7.0", v, err)
	}

	// The proxy group and its proxy, created once and kept (the proxy process runs under that
	// name and must find itself in the server's configuration).
	const groupName = "moodle-zabbix ci proxies"
	var groups []struct {
		ID string `json:"proxy_groupid"`
	}
	if err := api.Call(ctx, "proxygroup.get", map[string]any{"output": []string{"proxy_groupid"}, "filter": map[string]any{"name": groupName}}, &groups); err != nil {
		t.Fatal(err)
	}
	groupID := ""
	if len(groups) == 1 {
		groupID = groups[0].ID
	} else {
		var res struct {
			IDs []string `json:"proxy_groupids"`
		}
		if err := api.Call(ctx, "proxygroup.create", map[string]any{"name": groupName, "failover_delay": "10s", "min_online": "1"}, &res); err != nil {
			t.Fatal(err)
		}
		groupID = res.IDs[0]
	}
	var proxies []struct {
		ID string `json:"proxyid"`
	}
	if err := api.Call(ctx, "proxy.get", map[string]any{"output": []string{"proxyid"}, "filter": map[string]any{"name": proxyName}}, &proxies); err != nil {
		t.Fatal(err)
	}
	host, port, _ := splitHostPort(proxyAddr)
	if len(proxies) == 0 {
		if err := api.Call(ctx, "proxy.create", map[string]any{"name": proxyName, "operating_mode": 0,
			"proxy_groupid": groupID, "local_address": host, "local_port": port}, nil); err != nil {
			t.Fatal(err)
		}
	}

	hgroups, err := api.HostGroupGetOrCreate(ctx, "moodle-zabbix proxy tests")
	if err != nil {
		t.Fatal(err)
	}
	hostName := ztest.UniqueName("mz-proxy70-host")
	var created struct {
		HostIDs []string `json:"hostids"`
	}
	if err := api.Call(ctx, "host.create", map[string]any{"host": hostName,
		"groups": []map[string]string{{"groupid": hgroups[0].GroupID}}, "monitored_by": 2, "proxy_groupid": groupID}, &created); err != nil {
		t.Fatal(err)
	}
	hostID := created.HostIDs[0]
	t.Cleanup(func() { _ = api.HostDelete(context.Background(), hostID) })
	const key = "moodle.proxytest.value"
	var items struct {
		ItemIDs []string `json:"itemids"`
	}
	if err := api.Call(ctx, "item.create", map[string]any{"hostid": hostID, "name": "proxy test", "key_": key, "type": 2, "value_type": 3}, &items); err != nil {
		t.Fatal(err)
	}

	routes, err := api.HostRoutes(ctx, hostName)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 1 || routes[0].ProxyGroup != groupName || len(routes[0].Proxies) != 1 || routes[0].Proxies[0].Address != proxyAddr {
		t.Fatalf("routes = %+v, want the group %q with its proxy at %s", routes, groupName, proxyAddr)
	}

	item := func(v int) sender.Item {
		now := time.Now()
		return sender.Item{Host: hostName, Key: key, Value: strconv.Itoa(v), Clock: now.Unix(), NS: int64(now.Nanosecond())}
	}
	stored := func(want sender.Item) bool {
		var hist []zabbixapi.HistoryValue
		hist, err := api.HistoryGet(ctx, items.ItemIDs, zabbixapi.ValueType(3), time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hist {
			if int64(h.Clock) == want.Clock && h.Value == want.Value {
				return true
			}
		}
		return false
	}

	// Straight to the server: the server redirects to the group's proxy, the client follows.
	var dialMu sync.Mutex
	dialed := map[string]int{}
	dialer := &net.Dialer{}
	client, err := sender.NewClient(sender.Options{Servers: []string{vars["MZ_ZABBIX70_SERVER"]}, Timeout: 10 * time.Second, Logger: testLogger(t),
		Dialer: func(ctx context.Context, network, address string) (net.Conn, error) {
			dialMu.Lock()
			dialed[address]++
			dialMu.Unlock()
			return dialer.DialContext(ctx, network, address)
		}})
	if err != nil {
		t.Fatal(err)
	}
	var sent sender.Item
	ztest.WaitFor(t, func() bool {
		sent = item(70)
		res, err := client.Send(ctx, []sender.Item{sent})
		if err != nil && !errors.As(err, new(*sender.PartialError)) && !errors.As(err, new(*sender.RejectedError)) {
			t.Logf("send: %v", err)
		}
		return res.Processed == 1
	}, 120*time.Second)
	ztest.WaitFor(t, func() bool { return stored(sent) }, 60*time.Second)
	dialMu.Lock()
	if dialed[proxyAddr] == 0 {
		t.Errorf("the client never reached the proxy %s (dialled %v): the server did not redirect", proxyAddr, dialed)
	}
	dialMu.Unlock()
	// The redirect is remembered: the next value goes to the proxy without asking the server.
	before := dialed[vars["MZ_ZABBIX70_SERVER"]]
	if res, err := client.Send(ctx, []sender.Item{item(72)}); err != nil || res.Processed != 1 {
		t.Fatalf("second send: %v, %v", res, err)
	}
	if dialed[vars["MZ_ZABBIX70_SERVER"]] != before {
		t.Errorf("the second send asked the server again")
	}

	// Through the router: the API's local address of the group's proxy.
	router := newProxyRouter(client, sender.Options{Timeout: 10 * time.Second}, config.Proxies{Route: true, Refresh: time.Minute},
		[]string{hostName}, api.HostRoutes, testLogger(t))
	sent = item(71)
	if res, err := router.Send(ctx, []sender.Item{sent}); err != nil || res.Processed != 1 {
		t.Fatalf("through the router: %v, %v", res, err)
	}
	ztest.WaitFor(t, func() bool { return stored(sent) }, 60*time.Second)
}

func splitHostPort(addr string) (host, port string, err error) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], nil
		}
	}
	return addr, "10051", nil
}
