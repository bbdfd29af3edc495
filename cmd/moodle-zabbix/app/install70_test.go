package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

// zabbix70 returns the Zabbix 7.0 test server's logged-in API client and its variables (URL,
// user); it holds the harness's shared hold on that server, so no test stops it meanwhile.
func zabbix70(t *testing.T) (*zabbixapi.Client, map[string]string) {
	t.Helper()
	e := ztest.ZabbixVersion(t, "7.0")
	user := ztest.Require(t, "MZ_ZABBIX_USER")["MZ_ZABBIX_USER"]
	return e.API, map[string]string{"MZ_ZABBIX70_API": e.URL, "MZ_ZABBIX_USER": user}
}

// TestInstallTwiceZabbix70 installs the 7.0 templates (version-aware dashboards, with key
// figures and per-widget time periods), two sites and a fleet into a real Zabbix 7.0 twice:
// the second install changes nothing.
func TestInstallTwiceZabbix70(t *testing.T) {
	api, env := zabbix70(t)
	group := ztest.UniqueName("Moodle 70 sites")
	a, b, fleet := ztest.UniqueName("moodle-70-a"), ztest.UniqueName("moodle-70-b"), ztest.UniqueName("moodle-70-fleet")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`zabbix:
  servers: ["127.0.0.1:1"]
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
fleets:
  - {name: "%s fleet", host: "%s", group: "%s"}
sites:
  - {name: a, host: "%s", driver: sqlite, dsn: /nonexistent/a.db, groups: ["%s"], templates: ["Moodle hvp"]}
  - {name: b, host: "%s", driver: sqlite, dsn: /nonexistent/b.db, groups: ["%s"]}
`, filepath.Join(dir, "spool"), env["MZ_ZABBIX70_API"], env["MZ_ZABBIX_USER"], fleet, fleet, group, a, group, b, group)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	dashName := fleet + " fleet"
	dashName = "Moodle sites: " + dashName
	t.Cleanup(func() {
		deleteDashboards(t, api, dashName)
		deleteHosts(t, api, a, b, fleet)
		deleteGroups(t, api, group)
	})
	code, out, errs := runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK {
		t.Fatalf("install on 7.0: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK || !strings.Contains(out, "nothing to change") {
		t.Fatalf("second install on 7.0 changed something (exit %d):\n%s\n%s", code, out, errs)
	}

	// The fleet's global dashboard ranks and grids the sites of the fleet's group.
	var dash []struct {
		Pages []struct {
			Widgets []struct {
				Type   string `json:"type"`
				Fields []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"fields"`
			} `json:"widgets"`
		} `json:"pages"`
	}
	if err := api.Call(context.Background(), "dashboard.get", map[string]any{
		"output": "extend", "selectPages": "extend", "filter": map[string]any{"name": dashName},
	}, &dash); err != nil {
		t.Fatal(err)
	}
	var groupIDs []map[string]string
	if err := api.Call(context.Background(), "hostgroup.get", map[string]any{"output": []string{"groupid"}, "filter": map[string]any{"name": group}}, &groupIDs); err != nil || len(groupIDs) != 1 {
		t.Fatalf("host group %s: %v %v", group, groupIDs, err)
	}
	kinds := map[string]int{}
	if len(dash) == 1 {
		for _, w := range dash[0].Pages[0].Widgets {
			for _, f := range w.Fields {
				if f.Name == "groupids.0" && f.Value == groupIDs[0]["groupid"] {
					kinds[w.Type]++
				}
			}
		}
	}
	if kinds["tophosts"] != 1 || kinds["honeycomb"] != 2 {
		t.Errorf("fleet dashboard %q: widgets on the fleet's group %v, want 1 tophosts and 2 honeycomb (found %d dashboards)", dashName, kinds, len(dash))
	}
}

func deleteDashboards(t *testing.T, api *zabbixapi.Client, names ...string) {
	t.Helper()
	var found []struct {
		ID string `json:"dashboardid"`
	}
	if err := api.Call(context.Background(), "dashboard.get", map[string]any{"output": []string{"dashboardid"}, "filter": map[string]any{"name": names}}, &found); err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	var ids []string
	for _, d := range found {
		ids = append(ids, d.ID)
	}
	if len(ids) > 0 {
		if err := api.Call(context.Background(), "dashboard.delete", ids, nil); err != nil {
			t.Logf("cleanup: %v", err)
		}
	}
}
