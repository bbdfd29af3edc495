package app

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

// checkFrontend signs in to the server's web frontend and loads every template dashboard of
// host, then one of its graphs as an image: the pages show no error (a missing en_US locale
// breaks them all) and the graph is a PNG of the asked size, not an error drawn as text.
func checkFrontend(t *testing.T, env *ztest.Env, host string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hosts, err := env.API.HostGet(ctx, host)
	if err != nil || len(hosts) != 1 {
		t.Fatalf("host.get %s: %v", host, err)
	}
	hostID := hosts[0].HostID
	var templateIDs []string
	for _, tpl := range hosts[0].Templates {
		templateIDs = append(templateIDs, tpl.TemplateID)
	}
	var dashboards []struct {
		DashboardID string `json:"dashboardid"`
		Name        string `json:"name"`
	}
	if err := env.API.Call(ctx, "templatedashboard.get", map[string]any{
		"output": []string{"dashboardid", "name"}, "templateids": templateIDs,
	}, &dashboards); err != nil {
		t.Fatalf("templatedashboard.get: %v", err)
	}
	if len(dashboards) == 0 {
		t.Fatalf("host %s has no template dashboard (templates %v)", host, templateIDs)
	}
	var graphs []struct {
		GraphID string `json:"graphid"`
		Name    string `json:"name"`
	}
	if err := env.API.Call(ctx, "graph.get", map[string]any{
		"output": []string{"graphid", "name"}, "hostids": hostID, "sortfield": "name", "limit": 1,
	}, &graphs); err != nil || len(graphs) != 1 {
		t.Fatalf("graph.get on %s: %v (%d graphs)", host, err, len(graphs))
	}

	f := env.Frontend(t)
	for _, d := range dashboards {
		f.Page(t, "zabbix.php?"+url.Values{
			"action": {"host.dashboard.view"}, "hostid": {hostID}, "dashboardid": {d.DashboardID},
		}.Encode())
		t.Logf("dashboard %q of %s shows no error", d.Name, host)
	}
	img := f.PNG(t, "chart2.php?"+url.Values{
		"graphid": {graphs[0].GraphID}, "from": {"now-7d"}, "to": {"now"}, "width": {"800"}, "height": {"200"},
	}.Encode())
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 200 {
		t.Errorf("graph %q of %s is a %dx%d image, want at least 800x200 (an error drawn as text?)",
			graphs[0].Name, host, b.Dx(), b.Dy())
	}
}
