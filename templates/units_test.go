package templates

import (
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
)

func TestItemUnits(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"B":           "B",
		"s":           "s",
		"unixtime":    "unixtime",
		"%":           "%",
		"users":       "!users",
		"submissions": "!subm.",
		"!rows":       "!rows",
	} {
		if got := ItemUnits(in); got != want {
			t.Errorf("ItemUnits(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCatalogueUnits checks every unit of the generated templates: a count is never given metric
// prefixes ("4.68 Kusers"), and no unit word is long enough to clip a graph's value axis.
func TestCatalogueUnits(t *testing.T) {
	for _, v := range Versions {
		e, err := Build(catalogue.Registry(), Options{ZabbixVersion: v})
		if err != nil {
			t.Fatal(err)
		}
		check := func(tpl, key, units string) {
			if units == "" || convertedUnits[units] {
				return
			}
			word, ok := strings.CutPrefix(units, "!")
			if !ok {
				t.Errorf("%s %s %s: units %q would get K/M prefixes; want \"!\" before a count", v, tpl, key, units)
			}
			if len(word) > MaxUnitLength {
				t.Errorf("%s %s %s: unit word %q is longer than %d characters", v, tpl, key, word, MaxUnitLength)
			}
		}
		for _, tpl := range e.Templates {
			for _, it := range tpl.Items {
				check(tpl.Template, it.Key, it.Units)
			}
			for _, r := range tpl.DiscoveryRules {
				for _, it := range r.ItemPrototypes {
					check(tpl.Template, it.Key, it.Units)
				}
			}
		}
	}
}
