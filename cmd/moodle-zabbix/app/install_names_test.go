package app

import (
	"os"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
)

func parseInstallConfig(t *testing.T, fleets, sites string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("config.yaml", []byte(`zabbix:
  servers: ["127.0.0.1"]
  spool: {dir: /tmp/x}
fleets:
`+fleets+`
sites:
`+sites), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestInstallPlanNameCollision checks that a host whose visible name is a template's (the
// README's own example once named its fleet "Moodle fleet") is refused before the API is
// called, with the file, line and key at fault.
func TestInstallPlanNameCollision(t *testing.T) {
	tests := []struct {
		fleets, sites, want string
	}{
		{
			"  - {name: Moodle fleet, host: moodle-fleet, group: Moodle sites}",
			"  - {name: a, host: moodle-a, driver: sqlite, dsn: x}",
			`config.yaml:5: fleets[0].name: "Moodle fleet" is the name of a template`,
		},
		{
			"  - {name: All sites, host: moodle-fleet, group: Moodle sites}",
			"  - {name: a, host: Moodle performance, driver: sqlite, dsn: x}",
			`config.yaml:7: sites[0].host: "Moodle performance" is the name of a template`,
		},
		{
			"  - {name: moodle-a, host: moodle-fleet, group: Moodle sites}",
			"  - {name: a, host: moodle-a, driver: sqlite, dsn: x}",
			`fleets[0].name: visible name "moodle-a" is already used by sites[0].host`,
		},
	}
	for _, tt := range tests {
		cfg := parseInstallConfig(t, tt.fleets, tt.sites)
		_, err := InstallPlan(cfg, catalogue.Registry(), "7.0")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("fleets %s, sites %s: error %v, want %q", tt.fleets, tt.sites, err, tt.want)
		}
	}
	ok := parseInstallConfig(t, "  - {name: All Moodle sites, host: moodle-fleet, group: Moodle sites}",
		"  - {name: a, host: moodle-a, driver: sqlite, dsn: x}")
	if _, err := InstallPlan(ok, catalogue.Registry(), "7.0"); err != nil {
		t.Errorf("distinct names: %v", err)
	}
}

// TestInstallPlanFleetGroupsAndPacks checks the fleet host's own groups (configurable, default
// "Moodle fleets") and that the fleet template aggregates a contrib pack only when a site of a
// fleet lists it.
func TestInstallPlanFleetGroupsAndPacks(t *testing.T) {
	cfg := parseInstallConfig(t,
		"  - {name: All sites, host: moodle-fleet, group: Moodle sites, host_groups: [Fleets]}",
		`  - {name: a, host: moodle-a, driver: sqlite, dsn: x, templates: ["Moodle hvp"]}
  - {name: b, host: moodle-b, driver: sqlite, dsn: y, groups: [Other], templates: ["Moodle customcert"]}
`)
	plan, err := InstallPlan(cfg, catalogue.Registry(), "6.0")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.HostGroups, ","); got != "Fleets,Moodle sites,Other" {
		t.Errorf("host groups %q, want the configured fleet host group and no fixed one", got)
	}
	for _, h := range plan.Hosts {
		if h.Host == "moodle-fleet" && strings.Join(h.Groups, ",") != "Fleets" {
			t.Errorf("fleet host groups %v", h.Groups)
		}
	}
	y := string(plan.TemplateYAML)
	if !strings.Contains(y, "key: moodle.fleet.hvp.") {
		t.Error("no fleet item for the hvp pack, which site a of the fleet lists")
	}
	if strings.Contains(y, "key: moodle.fleet.customcert.") {
		t.Error("fleet items for the customcert pack, which only site b (outside the fleet's group) lists")
	}

	def := parseInstallConfig(t, "  - {name: All sites, host: moodle-fleet, group: Moodle sites}",
		"  - {name: a, host: moodle-a, driver: sqlite, dsn: x}")
	plan, err = InstallPlan(def, catalogue.Registry(), "6.0")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.HostGroups, ","); got != config.DefaultFleetHostGroup+",Moodle sites" {
		t.Errorf("default host groups %q", got)
	}
	if strings.Contains(string(plan.TemplateYAML), "key: moodle.fleet.hvp.") {
		t.Error("fleet items for a pack no site lists")
	}

	if _, err := config.Parse("c.yaml", []byte(`zabbix: {servers: ["127.0.0.1"], spool: {dir: /tmp/x}}
fleets:
  - {name: All, host: f, group: Moodle sites, host_groups: [Moodle sites]}
sites:
  - {name: a, host: moodle-a, driver: sqlite, dsn: x}
`), nil); err == nil || !strings.Contains(err.Error(), "fleets[0].host_groups[0]") {
		t.Errorf("fleet host put in the group it aggregates: error %v", err)
	}
}

// TestCommandsRefuseNameCollision checks that install and check refuse the collision before
// anything else: the API URL points at a closed port, so reaching it would give another error.
func TestCommandsRefuseNameCollision(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/config.yaml"
	cfg := `zabbix:
  servers: ["127.0.0.1:1"]
  spool: {dir: ` + dir + `/spool}
  api: {url: "http://127.0.0.1:1/api_jsonrpc.php", token: "x"}
fleets:
  - {name: Moodle fleet, host: moodle-fleet, group: Moodle sites}
sites:
  - {name: a, host: moodle-a, driver: sqlite, dsn: ` + dir + `/a.db}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"install", "check"} {
		code, out, errs := runCLI(t, cmd, "--config", path)
		want := path + `:6: fleets[0].name: "Moodle fleet" is the name of a template`
		if code != ExitFailure || !strings.Contains(errs, want) || strings.Contains(out, "ok   config") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", cmd, code, out, errs, ExitFailure, want)
		}
	}
}
