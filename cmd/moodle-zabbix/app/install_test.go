package app

import (
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
)

func TestInstallPlan(t *testing.T) {
	parse := func(extra string) *config.Config {
		t.Helper()
		cfg, err := config.Parse("config.yaml", []byte(`zabbix:
  servers: ["127.0.0.1"]
  spool: {dir: /tmp/x}
fleets:
  - {name: Fleet, host: moodle-fleet, group: Moodle sites}
sites:
  - {name: a, host: moodle-a, driver: sqlite, dsn: x, macros: {"{$MOODLE.ADHOC.QUEUE.MAX}": "5"}`+extra+`}
  - {name: b, host: moodle-b, driver: sqlite, dsn: y, groups: [Other]}
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	plan, err := InstallPlan(parse(`, templates: ["Moodle hvp"]`), catalogue.Registry(), "6.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.TemplateYAML) == 0 || !strings.Contains(string(plan.TemplateYAML), "template: Moodle fleet") {
		t.Error("the plan does not carry the templates")
	}
	if got := strings.Join(plan.HostGroups, ","); got != "Moodle fleets,Moodle sites,Other" {
		t.Errorf("host groups %q", got)
	}
	hosts := map[string][]string{}
	for _, h := range plan.Hosts {
		hosts[h.Host] = h.Templates
	}
	if got := strings.Join(hosts["moodle-a"], ","); got != "Moodle,Moodle performance,Moodle hvp" {
		t.Errorf("site a templates %q", got)
	}
	if got := strings.Join(hosts["moodle-b"], ","); got != "Moodle,Moodle performance" {
		t.Errorf("site b templates %q: contrib templates only where listed", got)
	}
	if got := strings.Join(hosts["moodle-fleet"], ","); got != "Moodle fleet" {
		t.Errorf("fleet templates %q", got)
	}
	for _, h := range plan.Hosts {
		if h.Host == "moodle-fleet" && h.Macros["{$MOODLE.FLEET.GROUP}"] != "Moodle sites" {
			t.Errorf("fleet macros %v", h.Macros)
		}
		if h.Host == "moodle-a" && h.Macros["{$MOODLE.ADHOC.QUEUE.MAX}"] != "5" {
			t.Errorf("site macros %v", h.Macros)
		}
	}
	if _, err := InstallPlan(parse(`, templates: ["Moodle hpv"]`), catalogue.Registry(), "6.0"); err == nil || !strings.Contains(err.Error(), `"Moodle hpv"`) {
		t.Errorf("a misspelt template: error %v", err)
	}
}
