package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// ensureProxy returns the id of the active proxy named name, creating it when missing. The
// proxy process itself (scripts/zabbix-proxy.sh) runs under that name and keeps asking the
// server for its configuration until the proxy exists.
func ensureProxy(t *testing.T, api *zabbixapi.Client, name string) string {
	t.Helper()
	ctx := context.Background()
	var found []struct {
		ProxyID string `json:"proxyid"`
	}
	if err := api.Call(ctx, "proxy.get", map[string]any{"output": []string{"proxyid"}, "filter": map[string]any{"host": name}}, &found); err != nil {
		t.Fatal(err)
	}
	if len(found) == 1 {
		return found[0].ProxyID
	}
	var created struct {
		ProxyIDs []string `json:"proxyids"`
	}
	if err := api.Call(ctx, "proxy.create", map[string]any{"host": name, "status": 5}, &created); err != nil {
		t.Fatal(err)
	}
	return created.ProxyIDs[0]
}

// TestSendThroughRealProxy assigns a host to the Zabbix proxy that runs beside the test server
// and sends its values through proxyRouter: the router learns from the API which proxy
// monitors the host, refuses to guess the listen address of an active proxy until it is
// configured, then delivers to the proxy, and the server stores the values the proxy passes
// on. Sending the same host's values straight to the server is refused, which is why the
// routing matters.
func TestSendThroughRealProxy(t *testing.T) {
	env := ztest.Zabbix(t)
	vars := ztest.Require(t, "MZ_ZABBIX_PROXY", "MZ_ZABBIX_PROXY_NAME")
	proxyAddr, proxyName := vars["MZ_ZABBIX_PROXY"], vars["MZ_ZABBIX_PROXY_NAME"]
	ctx := context.Background()
	proxyID := ensureProxy(t, env.API, proxyName)

	groups, err := env.API.HostGroupGetOrCreate(ctx, "moodle-zabbix proxy tests")
	if err != nil {
		t.Fatal(err)
	}
	host := env.UniqueName("mz-proxy-host")
	var created struct {
		HostIDs []string `json:"hostids"`
	}
	if err := env.API.Call(ctx, "host.create", map[string]any{
		"host": host, "groups": []map[string]string{{"groupid": groups[0].GroupID}}, "proxy_hostid": proxyID,
	}, &created); err != nil {
		t.Fatal(err)
	}
	hostID := created.HostIDs[0]
	t.Cleanup(func() { _ = env.API.HostDelete(context.Background(), hostID) })
	const key = "moodle.proxytest.value"
	if err := env.API.Call(ctx, "item.create", map[string]any{
		"hostid": hostID, "name": "proxy test", "key_": key, "type": 2, "value_type": 3,
	}, nil); err != nil {
		t.Fatal(err)
	}

	routes, err := env.API.HostRoutes(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 1 || routes[0].Proxy != proxyName || len(routes[0].Proxies) != 1 || routes[0].Proxies[0].Passive || routes[0].Proxies[0].Address != "" {
		t.Fatalf("routes = %+v, want host %s on active proxy %s with no known address", routes, host, proxyName)
	}

	servers, err := sender.NewClient(sender.Options{Servers: []string{env.Server}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	log := testLogger(t)
	item := func(v int) sender.Item {
		now := time.Now()
		return sender.Item{Host: host, Key: key, Value: strconv.Itoa(v), Clock: now.Unix(), NS: int64(now.Nanosecond())}
	}

	// Active proxy, no configured address: the values are not delivered (they would be
	// spooled) and the error names the setting to add.
	blind := newProxyRouter(servers, sender.Options{Timeout: 10 * time.Second}, config.Proxies{Route: true, Refresh: time.Minute}, []string{host}, env.API.HostRoutes, log)
	_, err = blind.Send(ctx, []sender.Item{item(1)})
	var de *sender.DeliveryError
	if !errors.As(err, &de) || len(de.Undelivered) != 1 || !strings.Contains(err.Error(), `zabbix.proxies.addresses["`+proxyName+`"]`) {
		t.Fatalf("without an address: err = %v, want a DeliveryError naming zabbix.proxies.addresses", err)
	}

	router := newProxyRouter(servers, sender.Options{Timeout: 10 * time.Second},
		config.Proxies{Route: true, Refresh: time.Minute, Addresses: map[string]string{proxyName: proxyAddr}},
		[]string{host}, env.API.HostRoutes, log)
	// The proxy knows the host after its next configuration fetch (ConfigFrequency=5 in the
	// test proxy); until then it counts the value as failed.
	var sent sender.Item
	ztest.WaitFor(t, func() bool {
		sent = item(4242)
		res, err := router.Send(ctx, []sender.Item{sent})
		if err != nil && !errors.As(err, new(*sender.PartialError)) {
			t.Fatalf("send through the proxy: %v", err)
		}
		return res.Processed == 1
	}, 90*time.Second)

	// The server keeps what its proxy forwards once both know the new host. A value the proxy
	// took while the server's side was still catching up (seen once in CI, under load) never
	// reaches history, so a new value goes through the proxy every 15 s until one is read back.
	delivered, sentAt := []sender.Item{sent}, time.Now()
	ztest.WaitFor(t, func() bool {
		for _, v := range env.History(t, host, key) {
			for _, d := range delivered {
				if int64(v.Clock) == d.Clock && v.Value == d.Value {
					return true
				}
			}
		}
		if time.Since(sentAt) > 15*time.Second {
			next := item(4242 + len(delivered))
			if res, _ := router.Send(ctx, []sender.Item{next}); res.Processed == 1 {
				delivered = append(delivered, next)
			}
			sentAt = time.Now()
		}
		return false
	}, 120*time.Second)

	// Straight to the server: refused, the host is the proxy's.
	res, err := servers.Send(ctx, []sender.Item{item(7)})
	if res.Processed != 0 || res.Failed != 1 {
		t.Errorf("straight to the server: %v (%v), want the value refused", res, err)
	}
}
