package templates

import (
	"sort"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// minFleetMeasures is how many measures the fleet template must aggregate once the catalogue is
// complete.
const minFleetMeasures = 18

func catalogueExport(t *testing.T, version string) *Export {
	t.Helper()
	e, err := Build(catalogue.Registry(), Options{ZabbixVersion: version})
	if err != nil {
		t.Fatalf("Build(catalogue, %s): %v", version, err)
	}
	return e
}

// TestCatalogueGolden pins the generated templates of the real catalogue, one file per version.
// They change whenever the catalogue changes: review the diff and run go test ./templates -update.
func TestCatalogueGolden(t *testing.T) {
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			y, err := catalogueExport(t, v).YAML()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, v+".yaml.golden", y)
		})
	}
}

// TestCatalogueKeys checks that every key the runner sends (every measure and every discovery
// rule) has an item, prototype or rule in the host templates, and that the templates hold no
// trapper key nobody sends.
func TestCatalogueKeys(t *testing.T) {
	reg := catalogue.Registry()
	keys := Keys(catalogueExport(t, DefaultVersion))
	sent := map[string]bool{}
	for _, m := range reg.Measures() {
		sent[m.Key] = true
	}
	for _, d := range reg.Discoveries() {
		sent[d.Key] = true
	}
	if len(sent) == 0 {
		t.Fatal("the catalogue registry is empty")
	}
	var missing, extra []string
	for k := range sent {
		if !keys[k] {
			missing = append(missing, k)
		}
	}
	for k := range keys {
		if !sent[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("keys sent without an item, prototype or rule in the templates: %s", strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("template keys nothing sends: %s", strings.Join(extra, ", "))
	}
}

// TestCatalogueValueTypes checks that every item and prototype stores the measure's value type,
// and that the version and release, which report_zabbix declared unsigned, are text.
func TestCatalogueValueTypes(t *testing.T) {
	reg := catalogue.Registry()
	e := catalogueExport(t, DefaultVersion)
	want := map[measures.ValueType]string{
		measures.Unsigned: "", measures.Float: "FLOAT", measures.Char: "CHAR", measures.Text: "TEXT",
	}
	check := func(tpl string, it Item) {
		m := reg.Lookup(it.Key)
		if m == nil {
			t.Errorf("%s: item %s has no measure", tpl, it.Key)
			return
		}
		if it.ValueType != want[m.Type] {
			t.Errorf("%s: item %s has value_type %q, the measure is %s", tpl, it.Key, it.ValueType, m.Type)
		}
		if !m.Type.Numeric() && it.Trends != "0" {
			t.Errorf("%s: text item %s keeps trends %q", tpl, it.Key, it.Trends)
		}
	}
	for _, tpl := range e.Templates {
		if tpl.Template == FleetTemplate {
			continue
		}
		for _, it := range tpl.Items {
			check(tpl.Name, it)
		}
		for _, r := range tpl.DiscoveryRules {
			for _, it := range r.ItemPrototypes {
				check(tpl.Name, it)
			}
		}
	}
	for _, key := range []string{"moodle.general.version", "moodle.general.release"} {
		m := reg.Lookup(key)
		if m == nil {
			t.Errorf("the catalogue has no %s yet", key)
			continue
		}
		if m.Type.Numeric() {
			t.Errorf("%s is %s; it must be text (report_zabbix's unsigned item refused every value)", key, m.Type)
		}
	}
}

// TestCatalogueFleetCoverage checks that the fleet template aggregates enough of the catalogue
// to be worth linking, and that each fleet item is there once.
func TestCatalogueFleetCoverage(t *testing.T) {
	reg := catalogue.Registry()
	e := catalogueExport(t, DefaultVersion)
	f := e.Template(FleetTemplate)
	if f == nil {
		t.Fatal("no fleet template")
	}
	seen := map[string]int{}
	for _, it := range f.Items {
		seen[it.Key]++
	}
	covered := 0
	for _, m := range FleetMeasures(reg) {
		switch seen[FleetKey(m.Key)] {
		case 1:
			covered++
		case 0:
			t.Errorf("fleet template lacks %s for measure %s", FleetKey(m.Key), m.Key)
		default:
			t.Errorf("fleet item %s appears %d times", FleetKey(m.Key), seen[FleetKey(m.Key)])
		}
	}
	if covered < minFleetMeasures {
		t.Errorf("the fleet template aggregates %d measures, want at least %d: give more catalogue measures an "+
			"Aggregate (Sum, Avg, Max or Min) - it is expected to fail until the catalogue is complete", covered, minFleetMeasures)
	}
}
