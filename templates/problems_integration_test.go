package templates

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// TestZabbixOneProblemWhenCollectorStops is the 3 a.m. view of a stopped collector on a real
// Zabbix: a site linked to the default, performance and contrib templates receives one value
// per family and then nothing. Every family's nodata period runs out (shortened by host macros,
// the slower families after the instant one), yet exactly one problem opens, and it names the
// host: the performance and contrib templates add no nodata trigger of their own, and the
// slower families' triggers wait on the instant one.
func TestZabbixOneProblemWhenCollectorStops(t *testing.T) {
	env := ztest.Zabbix(t)
	api := env.API
	c := &rpc{api: api, version: env.TestServer.Version}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	prefix := ztest.UniqueName("MZ one problem") + " "
	fx := fixtureRegistryNamed(t, prefix)
	names := fx.Templates()
	e, err := Build(fx, Options{Templates: names})
	if err != nil {
		t.Fatal(err)
	}
	y, err := e.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := importYAML(ctx, c, y, true); err != nil {
		t.Fatalf("import: %v", err)
	}
	hostName := ztest.UniqueName("moodle-one-problem")
	groupName := ztest.UniqueName("MZ one problem sites")
	t.Cleanup(func() {
		ctx := context.Background()
		if hs, err := api.HostGet(ctx, hostName); err == nil && len(hs) > 0 {
			_ = api.Call(ctx, "host.delete", []string{hs[0].HostID}, nil)
		}
		var tpls []struct {
			ID string `json:"templateid"`
		}
		if err := c.call(ctx, "template.get", map[string]any{"output": []string{"templateid"}, "filter": map[string]any{"host": names}}, &tpls); err == nil {
			var ids []string
			for _, x := range tpls {
				ids = append(ids, x.ID)
			}
			if len(ids) > 0 {
				_ = api.Call(ctx, "template.delete", ids, nil)
			}
		}
		if gs, err := api.HostGroupGet(ctx, groupName); err == nil && len(gs) > 0 {
			_ = api.Call(ctx, "hostgroup.delete", []string{gs[0].GroupID}, nil)
		}
	})

	groups, err := api.HostGroupGetOrCreate(ctx, groupName)
	if err != nil {
		t.Fatal(err)
	}
	var tpls []struct {
		ID string `json:"templateid"`
	}
	if err := c.call(ctx, "template.get", map[string]any{"output": []string{"templateid"}, "filter": map[string]any{"host": names}}, &tpls); err != nil || len(tpls) != len(names) {
		t.Fatalf("template.get %v: %d of %d (%v)", names, len(tpls), len(names), err)
	}
	var links []map[string]string
	for _, x := range tpls {
		links = append(links, map[string]string{"templateid": x.ID})
	}
	if err := api.Call(ctx, "host.create", map[string]any{
		"host": hostName, "groups": []map[string]string{{"groupid": groups[0].GroupID}}, "templates": links,
		"macros": []map[string]string{
			{"macro": "{$MOODLE.NODATA.INSTANT}", "value": "30s"},
			{"macro": "{$MOODLE.NODATA.HOURLY}", "value": "90s"},
			{"macro": "{$MOODLE.NODATA.DAILY}", "value": "90s"},
		},
	}, nil); err != nil {
		t.Fatalf("host.create: %v", err)
	}
	hosts, err := api.HostGet(ctx, hostName)
	if err != nil || len(hosts) != 1 {
		t.Fatalf("host.get: %v", err)
	}

	// One value per family's heartbeat (and the performance and contrib items), then silence.
	client, err := sender.NewClient(sender.Options{Servers: []string{env.Server}})
	if err != nil {
		t.Fatal(err)
	}
	items := []sender.Item{
		{Host: hostName, Key: "moodle.general.instance", Value: "1"},
		{Host: hostName, Key: "moodle.general.release", Value: "4.3"},
		{Host: hostName, Key: "moodle.users.ratio", Value: "0.5"},
		{Host: hostName, Key: "moodle.storage.dbsize", Value: "1000"},
		{Host: hostName, Key: "moodle.shop.orders", Value: "3"},
	}
	env.ReloadConfigCache(t)
	ztest.WaitFor(t, func() bool {
		res, _ := client.Send(ctx, items)
		return res.Processed == len(items)
	}, 90*time.Second)
	sent := time.Now()

	var problems []zabbixapi.Problem
	query := zabbixapi.ProblemQuery{HostIDs: []string{hosts[0].HostID}}
	ztest.WaitFor(t, func() bool {
		problems, _ = api.ProblemGet(ctx, query)
		return len(problems) > 0
	}, 150*time.Second)
	// The slower families' periods (90 s) have run out too, and their triggers evaluated.
	time.Sleep(time.Until(sent.Add(160 * time.Second)))
	if problems, err = api.ProblemGet(ctx, query); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.Name)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Name, hostName) || !strings.Contains(problems[0].Name, "instant") {
		t.Errorf("problems after the collector stopped: %q; want one, the instant nodata problem naming %s", got, hostName)
	}
}
