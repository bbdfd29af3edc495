package templates

import (
	"fmt"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// siteTemplates returns the templates linked together on one site: the two core templates and
// one contrib pack (or none).
func siteTemplates(e *Export, pack string) []*Template {
	var out []*Template
	for i := range e.Templates {
		n := e.Templates[i].Template
		if n == measures.DefaultTemplate || n == measures.PerformanceTemplate || n == pack {
			out = append(out, &e.Templates[i])
		}
	}
	return out
}

// TestCatalogueOneProblemPerFault checks what a site linked to the core templates and a contrib
// pack shows when things go wrong: every problem names its host, a stopped collector raises
// one nodata problem (the others depend on it), no problem name carries a count with a plural
// unit ("(1 runs)"), and no two items of the host share a name.
func TestCatalogueOneProblemPerFault(t *testing.T) {
	e, err := Build(catalogue.Registry(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	packs := []string{""}
	for _, tpl := range e.Templates {
		if tpl.Template != measures.DefaultTemplate && tpl.Template != measures.PerformanceTemplate && tpl.Template != FleetTemplate {
			packs = append(packs, tpl.Template)
		}
	}
	checkName := func(where string, tr Trigger, units string) {
		if !strings.Contains(tr.Name, "{HOST.NAME}") {
			t.Errorf("%s: trigger %q does not name the host", where, tr.Name)
		}
		if strings.Contains(tr.Name, "{ITEM.LASTVALUE}") && units != "s" {
			t.Errorf("%s: trigger %q puts a value with units %q in its name; show it as operational data", where, tr.Name, units)
		}
	}
	for _, tr := range e.Triggers {
		checkName("top level", tr, "")
	}
	for _, pack := range packs {
		site := siteTemplates(e, pack)
		names := map[string]string{}
		nodata := map[string][]Trigger{}
		for _, tpl := range site {
			for _, it := range tpl.Items {
				if other, ok := names[it.Name]; ok {
					t.Errorf("site with %q: item name %q is used by %s and %s", pack, it.Name, other, it.Key)
				}
				names[it.Name] = it.Key
				for _, tr := range it.Triggers {
					checkName(tpl.Template+" "+it.Key, tr, it.Units)
					if strings.HasPrefix(tr.Expression, "nodata(") {
						fam := ""
						for _, tag := range it.Tags {
							if tag.Tag == "family" {
								fam = tag.Value
							}
						}
						nodata[fam] = append(nodata[fam], tr)
					}
				}
			}
			for _, r := range tpl.DiscoveryRules {
				for _, it := range r.ItemPrototypes {
					for _, tr := range it.TriggerPrototypes {
						checkName(tpl.Template+" "+it.Key, tr, it.Units)
					}
				}
				for _, tr := range r.TriggerPrototypes {
					checkName(tpl.Template+" "+r.Key, tr, "")
				}
			}
		}
		instant := nodata[measures.Instant.String()]
		if len(instant) != 1 {
			t.Fatalf("site with %q: %d instant nodata triggers, want 1", pack, len(instant))
		}
		for _, f := range measures.Families {
			trs := nodata[f.String()]
			if len(trs) != 1 {
				t.Errorf("site with %q: %d %s nodata triggers, want 1: %v", pack, len(trs), f, trs)
				continue
			}
			if f == measures.Instant {
				continue
			}
			want := fmt.Sprint([]TriggerDependency{{Name: instant[0].Name, Expression: instant[0].Expression}})
			if got := fmt.Sprint(trs[0].Dependencies); got != want {
				t.Errorf("site with %q: %s nodata trigger depends on %s, want %s", pack, f, got, want)
			}
		}
	}
	fleet := e.Template(FleetTemplate)
	seen := map[string]string{}
	for _, it := range fleet.Items {
		if other, ok := seen[it.Name]; ok {
			t.Errorf("fleet: item name %q is used by %s and %s", it.Name, other, it.Key)
		}
		seen[it.Name] = it.Key
	}
}
