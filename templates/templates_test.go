package templates

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// uuids returns every UUID of an export with where it was found.
func uuids(e *Export) map[string][]string {
	out := map[string][]string{}
	add := func(u, where string) { out[u] = append(out[u], where) }
	for _, g := range append(append(append([]Group(nil), e.Groups...), e.TemplateGroups...), e.HostGroups...) {
		add(g.UUID, "group "+g.Name)
	}
	trig := func(ts []Trigger, where string) {
		for _, t := range ts {
			add(t.UUID, where+" trigger "+t.Name)
		}
	}
	graphs := func(gs []Graph, where string) {
		for _, g := range gs {
			add(g.UUID, where+" graph "+g.Name)
		}
	}
	for _, t := range e.Templates {
		add(t.UUID, "template "+t.Name)
		for _, it := range t.Items {
			add(it.UUID, t.Name+" item "+it.Key)
			trig(it.Triggers, t.Name+" "+it.Key)
		}
		for _, r := range t.DiscoveryRules {
			add(r.UUID, t.Name+" rule "+r.Key)
			for _, p := range r.ItemPrototypes {
				add(p.UUID, t.Name+" prototype "+p.Key)
				trig(p.TriggerPrototypes, t.Name+" "+p.Key)
			}
			trig(r.TriggerPrototypes, t.Name+" "+r.Key)
			graphs(r.GraphPrototypes, t.Name+" "+r.Key)
		}
		for _, d := range t.Dashboards {
			add(d.UUID, t.Name+" dashboard "+d.Name)
		}
		for _, v := range t.ValueMaps {
			add(v.UUID, t.Name+" valuemap "+v.Name)
		}
	}
	trig(e.Triggers, "top")
	graphs(e.Graphs, "top")
	return out
}

func TestUUID(t *testing.T) {
	tests := []struct {
		parts []string
	}{
		{[]string{"Moodle", "template"}},
		{[]string{"Moodle", "item", "moodle.users.connected"}},
		{[]string{"Moodle fleet", "item", "moodle.fleet.users.connected"}},
		{[]string{""}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		u := UUID(tt.parts...)
		if !ValidUUID(u) {
			t.Errorf("UUID(%q) = %s, not a 32-digit lowercase version 4 UUID", tt.parts, u)
		}
		if again := UUID(tt.parts...); again != u {
			t.Errorf("UUID(%q) is not stable: %s then %s", tt.parts, u, again)
		}
		if seen[u] {
			t.Errorf("UUID(%q) = %s collides with another name", tt.parts, u)
		}
		seen[u] = true
	}
	// The value is pinned: changing the derivation would make every re-import create new
	// objects instead of updating the existing ones.
	if got, want := UUID("Moodle", "template"), pinnedTemplateUUID; got != want {
		t.Errorf("UUID(Moodle, template) = %s, want %s: the derivation changed", got, want)
	}
}

// pinnedTemplateUUID is UUID("Moodle", "template") as first released.
const pinnedTemplateUUID = "87d7174f5b154de48c3eed2f1ee2b1e8"

func TestValidUUID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0123456789ab4def8123456789abcdef", true},
		{"0123456789ab4def9123456789abcdef", true},
		{"0123456789ab4defb123456789abcdef", true},
		{"0123456789ab1def8123456789abcdef", false}, // version 1
		{"0123456789ab4def7123456789abcdef", false}, // variant 0xxx
		{"0123456789AB4DEF8123456789ABCDEF", false}, // upper case
		{"0123456789ab4def8123456789abcde", false},  // 31 digits
		{"01234567-89ab-4def-8123-456789abcdef", false},
	}
	for _, tt := range tests {
		if got := ValidUUID(tt.in); got != tt.want {
			t.Errorf("ValidUUID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestUUIDsUniqueAndValid(t *testing.T) {
	for _, v := range Versions {
		e, err := Build(fixtureRegistry(t), Options{ZabbixVersion: v})
		if err != nil {
			t.Fatal(err)
		}
		for u, where := range uuids(e) {
			if !ValidUUID(u) {
				t.Errorf("%s: uuid %q of %s is not a valid v4 UUID", v, u, where)
			}
			if len(where) > 1 {
				t.Errorf("%s: uuid %s shared by %s", v, u, strings.Join(where, ", "))
			}
		}
		again, err := Build(fixtureRegistry(t), Options{ZabbixVersion: v})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := e.YAML()
		b, _ := again.YAML()
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two builds of the same registry differ", v)
		}
	}
}

func findItem(t *testing.T, tpl *Template, key string) *Item {
	t.Helper()
	for i := range tpl.Items {
		if tpl.Items[i].Key == key {
			return &tpl.Items[i]
		}
	}
	for _, r := range tpl.DiscoveryRules {
		for i := range r.ItemPrototypes {
			if r.ItemPrototypes[i].Key == key {
				return &r.ItemPrototypes[i]
			}
		}
	}
	t.Fatalf("template %s has no item %s", tpl.Name, key)
	return nil
}

func mustTemplate(t *testing.T, e *Export, name string) *Template {
	t.Helper()
	tpl := e.Template(name)
	if tpl == nil {
		t.Fatalf("no template %q in export", name)
	}
	return tpl
}

func TestBuildItems(t *testing.T) {
	e, err := Build(fixtureRegistry(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Version != "6.0" {
		t.Errorf("default version = %q, want 6.0", e.Version)
	}
	var names []string
	for _, tpl := range e.Templates {
		names = append(names, tpl.Name)
	}
	if got, want := strings.Join(names, "|"), "Moodle|Moodle fleet|Moodle performance|Moodle shop"; got != want {
		t.Errorf("templates = %s, want %s", got, want)
	}
	m := mustTemplate(t, e, "Moodle")
	tests := []struct {
		key, valueType, units, history, trends, valuemap, component, family string
	}{
		// Values equal to Zabbix's import defaults (history 90d, trends 365d) are omitted, as in
		// Zabbix's own exports.
		// Counts keep their number: "!" stops Zabbix from writing 4680 users as "4.68 Kusers".
		{"moodle.users.connected", "", "!users", "14d", "", "", "users", "instant"},
		{"moodle.general.cronstate", "", "", "14d", "", "Moodle cron state", "general", "instant"},
		{"moodle.general.version", "TEXT", "", "", "0", "", "general", "hourly"},
		{"moodle.general.release", "CHAR", "", "", "0", "", "general", "hourly"},
		{"moodle.users.registered", "", "!users", "400d", "3650d", "", "users", "daily"},
		{"moodle.users.ratio", "FLOAT", "%", "730d", "1825d", "", "users", "daily"},
		{"moodle.topcategory.courses[{#CATID}]", "", "!courses", "730d", "1825d", "", "courses", "daily"},
	}
	for _, tt := range tests {
		it := findItem(t, m, tt.key)
		if it.Type != "TRAP" || it.Delay != "0" {
			t.Errorf("%s: type %q delay %q, want TRAP and 0", tt.key, it.Type, it.Delay)
		}
		if it.ValueType != tt.valueType || it.Units != tt.units || it.History != tt.history || it.Trends != tt.trends {
			t.Errorf("%s: value_type %q units %q history %q trends %q, want %q %q %q %q", tt.key,
				it.ValueType, it.Units, it.History, it.Trends, tt.valueType, tt.units, tt.history, tt.trends)
		}
		vm := ""
		if it.ValueMap != nil {
			vm = it.ValueMap.Name
		}
		if vm != tt.valuemap {
			t.Errorf("%s: valuemap %q, want %q", tt.key, vm, tt.valuemap)
		}
		want := []Tag{{"component", tt.component}, {"family", tt.family}, {"source", SourceTag}}
		if fmt.Sprint(it.Tags) != fmt.Sprint(want) {
			t.Errorf("%s: tags %v, want %v", tt.key, it.Tags, want)
		}
		if !strings.Contains(it.Description, "Family: "+tt.family+".") {
			t.Errorf("%s: description %q lacks its family", tt.key, it.Description)
		}
	}
	v := findItem(t, m, "moodle.general.version")
	if !strings.Contains(v.Description, "Fixes report_zabbix: The item was declared unsigned") ||
		!strings.Contains(v.Description, "inherited unchanged from report_zabbix") {
		t.Errorf("version description lacks the fix and legacy notes: %q", v.Description)
	}
	if len(m.ValueMaps) != 1 || m.ValueMaps[0].Name != "Moodle cron state" || len(m.ValueMaps[0].Mappings) != 2 {
		t.Errorf("value maps = %+v", m.ValueMaps)
	}
	if p := mustTemplate(t, e, "Moodle performance"); len(p.Items) != 1 || p.Items[0].Key != "moodle.storage.dbsize" {
		t.Errorf("Moodle performance items = %+v", p.Items)
	}
}

func TestBuildTriggers(t *testing.T) {
	e, err := Build(fixtureRegistry(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := mustTemplate(t, e, "Moodle")
	conn := findItem(t, m, "moodle.users.connected")
	if len(conn.Triggers) != 1 {
		t.Fatalf("moodle.users.connected triggers = %+v, want 1", conn.Triggers)
	}
	tr := conn.Triggers[0]
	if tr.Expression != "last(/Moodle/moodle.users.connected)>{$MOODLE.USERS.CONNECTED.MAX}" ||
		tr.RecoveryMode != "RECOVERY_EXPRESSION" ||
		tr.RecoveryExpression != "last(/Moodle/moodle.users.connected)<{$MOODLE.USERS.CONNECTED.MAX}*0.9" ||
		tr.Priority != "WARNING" || tr.ManualClose != "YES" {
		t.Errorf("trigger = %+v", tr)
	}
	// A trigger on two items goes to the top level, as Zabbix exports it.
	for _, tr := range findItem(t, m, "moodle.users.ratio").Triggers {
		if tr.Name == "Connected ratio high while users are connected" {
			t.Error("multi-item trigger placed under its item")
		}
	}
	if len(e.Triggers) != 1 || e.Triggers[0].Expression != "last(/Moodle/moodle.users.ratio)>50 and last(/Moodle/moodle.users.connected)>0" ||
		e.Triggers[0].Priority != "HIGH" {
		t.Errorf("top-level triggers = %+v", e.Triggers)
	}
	// Prototype triggers: single-item under the prototype, multi-item under the rule.
	if len(m.DiscoveryRules) != 1 {
		t.Fatalf("rules = %+v", m.DiscoveryRules)
	}
	r := m.DiscoveryRules[0]
	if r.Type != "TRAP" || r.Delay != "0" || r.Lifetime != "" || r.Key != "moodle.topcategory.discovery" {
		t.Errorf("rule = %+v", r)
	}
	p := findItem(t, m, "moodle.topcategory.courses[{#CATID}]")
	if len(p.TriggerPrototypes) != 1 || p.TriggerPrototypes[0].Expression != "last(/Moodle/moodle.topcategory.courses[{#CATID}])=0" {
		t.Errorf("prototype triggers = %+v", p.TriggerPrototypes)
	}
	if len(r.TriggerPrototypes) != 1 || !strings.Contains(r.TriggerPrototypes[0].Expression, "last(/Moodle/moodle.topcategory.users[{#CATID}])") {
		t.Errorf("rule trigger prototypes = %+v", r.TriggerPrototypes)
	}
	// Macros: deduplicated, with descriptions, plus one nodata macro per family present.
	var macros []string
	for _, mac := range m.Macros {
		macros = append(macros, mac.Macro+"="+mac.Value)
		if mac.Description == "" {
			t.Errorf("macro %s has no description", mac.Macro)
		}
	}
	want := "{$MOODLE.NODATA.DAILY}=26h {$MOODLE.NODATA.HOURLY}=2h {$MOODLE.NODATA.INSTANT}=5m {$MOODLE.USERS.CONNECTED.MAX}=5000"
	if got := strings.Join(macros, " "); got != want {
		t.Errorf("macros = %s, want %s", got, want)
	}
}

func TestNodataTriggers(t *testing.T) {
	e, err := Build(fixtureRegistry(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// One template watches each family: the default one when it has the family. The
	// performance template and the contrib pack, linked beside it on every site, add none, so a
	// stopped collector is one problem per host.
	tests := []struct {
		template, family, key, priority string
	}{
		{"Moodle", "instant", "moodle.general.instance", "AVERAGE"}, // the dedicated heartbeat
		{"Moodle", "hourly", "moodle.general.release", "WARNING"},   // no numeric measure: the first by key
		{"Moodle", "daily", "moodle.users.ratio", "WARNING"},        // first numeric by key
		{"Moodle performance", "hourly", "", ""},                    // Moodle watches hourly
		{"Moodle shop", "daily", "", ""},                            // Moodle watches daily
	}
	var instant Trigger
	for _, tt := range tests {
		tpl := mustTemplate(t, e, tt.template)
		var found []string
		for _, it := range tpl.Items {
			for _, tr := range it.Triggers {
				if strings.HasPrefix(tr.Expression, "nodata(") && strings.Contains(tr.Expression, "{$MOODLE.NODATA."+strings.ToUpper(tt.family)+"}") {
					found = append(found, it.Key)
					wantExpr := fmt.Sprintf("nodata(/%s/%s,{$MOODLE.NODATA.%s})=1", tt.template, tt.key, strings.ToUpper(tt.family))
					if tr.Expression != wantExpr || tr.Priority != tt.priority {
						t.Errorf("%s %s nodata trigger = %q %s, want %q %s", tt.template, tt.family, tr.Expression, tr.Priority, wantExpr, tt.priority)
					}
					if !strings.Contains(tr.Name, "{HOST.NAME}") {
						t.Errorf("%s %s nodata trigger %q does not name the host", tt.template, tt.family, tr.Name)
					}
					if tt.family == "instant" {
						instant = tr
					}
				}
			}
		}
		if tt.key == "" {
			if len(found) != 0 {
				t.Errorf("%s %s nodata trigger on %v, want none", tt.template, tt.family, found)
			}
			continue
		}
		if len(found) != 1 || found[0] != tt.key {
			t.Errorf("%s %s nodata trigger on %v, want on %s only", tt.template, tt.family, found, tt.key)
		}
	}
	// The slower families wait on the instant heartbeat: while it is in problem they stay quiet.
	n := 0
	for _, it := range mustTemplate(t, e, "Moodle").Items {
		for _, tr := range it.Triggers {
			if !strings.HasPrefix(tr.Expression, "nodata(") {
				continue
			}
			n++
			want := []TriggerDependency{{Name: instant.Name, Expression: instant.Expression}}
			if tr.Expression == instant.Expression {
				want = nil
			}
			if fmt.Sprint(tr.Dependencies) != fmt.Sprint(want) {
				t.Errorf("nodata trigger %q depends on %v, want %v", tr.Name, tr.Dependencies, want)
			}
		}
	}
	if n != 3 {
		t.Errorf("Moodle has %d nodata triggers, want 3 (instant, hourly, daily)", n)
	}
}

func TestGraphsAndDashboards(t *testing.T) {
	reg := fixtureRegistry(t)
	e, err := Build(reg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	col := func(key string) string { return lineColour(reg.Lookup(key)) }
	var got []string
	for _, g := range e.Graphs {
		var keys []string
		for _, gi := range g.GraphItems {
			keys = append(keys, gi.Item.Host+":"+gi.Item.Key+"#"+gi.Color)
		}
		got = append(got, g.Name+"="+strings.Join(keys, ","))
	}
	want := []string{
		"Database size=Moodle performance:moodle.storage.dbsize#" + col("moodle.storage.dbsize"),
		"Database size=Moodle fleet:moodle.fleet.storage.dbsize#" + col("moodle.storage.dbsize"),
		"Moodle sites reporting=Moodle fleet:moodle.fleet.sites#" + palette[0],
		"Shop=Moodle fleet:moodle.fleet.shop.orders#" + col("moodle.shop.orders"),
		"Shop=Moodle shop:moodle.shop.orders#" + col("moodle.shop.orders"),
		"User accounts=Moodle:moodle.users.ratio#" + col("moodle.users.ratio") + ",Moodle:moodle.users.registered#" + col("moodle.users.registered"),
		"User accounts=Moodle fleet:moodle.fleet.users.ratio#" + col("moodle.users.ratio") + ",Moodle fleet:moodle.fleet.users.registered#" + col("moodle.users.registered"),
		"Users online=Moodle:moodle.users.active.instant#" + col("moodle.users.active.instant") + ",Moodle:moodle.users.connected#E53935",
		"Users online=Moodle fleet:moodle.fleet.users.active.instant#" + col("moodle.users.active.instant") + ",Moodle fleet:moodle.fleet.users.connected#E53935",
	}
	if strings.Join(sortedCopy(got), "\n") != strings.Join(sortedCopy(want), "\n") {
		t.Errorf("graphs:\n%s\nwant:\n%s", strings.Join(sortedCopy(got), "\n"), strings.Join(sortedCopy(want), "\n"))
	}
	m := mustTemplate(t, e, "Moodle")
	gp := m.DiscoveryRules[0].GraphPrototypes
	if len(gp) != 1 || gp[0].Name != "Category courses ({#CATID})" || len(gp[0].GraphItems) != 2 {
		t.Errorf("graph prototypes = %+v", gp)
	}
	if len(m.Dashboards) != 1 {
		t.Fatalf("dashboards = %+v", m.Dashboards)
	}
	var widgets []string
	for _, p := range m.Dashboards[0].Pages {
		for _, w := range p.Widgets {
			widgets = append(widgets, fmt.Sprintf("%s: %s %s x=%s y=%s w=%s %v", p.Name, w.Type, w.Name, w.X, w.Y, w.Width, w.Fields))
		}
	}
	// One page per time scale: instant graphs on "Now", daily ones on "Days"; on each, graphs
	// laid out first, prototypes below, then listed by name as Zabbix exports them.
	wantW := []string{
		"Now (last hour): GRAPH_CLASSIC Users online x= y= w=12 [{GRAPH graphid {Moodle Users online}}]",
		"Days (last 30 days): GRAPH_PROTOTYPE Category courses ({#CATID}) x= y=5 w=24 [{GRAPH_PROTOTYPE graphid {Moodle Category courses ({#CATID})}}]",
		"Days (last 30 days): GRAPH_CLASSIC User accounts x= y= w=12 [{GRAPH graphid {Moodle User accounts}}]",
	}
	if strings.Join(widgets, "\n") != strings.Join(wantW, "\n") {
		t.Errorf("widgets:\n%s\nwant:\n%s", strings.Join(widgets, "\n"), strings.Join(wantW, "\n"))
	}
	if p := mustTemplate(t, e, "Moodle performance"); len(p.Dashboards) != 0 {
		t.Errorf("Moodle performance has a dashboard without any Dashboard measure: %+v", p.Dashboards)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestFleet(t *testing.T) {
	e, err := Build(fixtureRegistry(t), Options{FleetGroup: "All Moodles"})
	if err != nil {
		t.Fatal(err)
	}
	f := mustTemplate(t, e, FleetTemplate)
	var got []string
	for _, it := range f.Items {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", it.Key, it.Type, it.Delay, it.ValueType, it.Params))
	}
	// Delay 1m is Zabbix's default and omitted; UNSIGNED likewise.
	want := []string{
		`moodle.fleet.general.cronstate CALCULATED   max(last_foreach(/*/moodle.general.cronstate?[group="{$MOODLE.FLEET.GROUP}"]))`,
		`moodle.fleet.shop.orders CALCULATED 1h  sum(last_foreach(/*/moodle.shop.orders?[group="{$MOODLE.FLEET.GROUP}"]))`,
		`moodle.fleet.sites CALCULATED   count(last_foreach(/*/moodle.general.instance?[group="{$MOODLE.FLEET.GROUP}"]))`,
		`moodle.fleet.storage.dbsize CALCULATED 5m  sum(last_foreach(/*/moodle.storage.dbsize?[group="{$MOODLE.FLEET.GROUP}"]))`,
		`moodle.fleet.users.active.instant CALCULATED   sum(last_foreach(/*/moodle.users.active.instant?[group="{$MOODLE.FLEET.GROUP}"]))`,
		`moodle.fleet.users.connected CALCULATED   sum(last_foreach(/*/moodle.users.connected?[group="{$MOODLE.FLEET.GROUP}"]))`,
		`moodle.fleet.users.ratio CALCULATED 1h FLOAT avg(last_foreach(/*/moodle.users.ratio?[group="{$MOODLE.FLEET.GROUP}"]))`,
		`moodle.fleet.users.registered CALCULATED 1h  sum(last_foreach(/*/moodle.users.registered?[group="{$MOODLE.FLEET.GROUP}"]))`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fleet items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, it := range f.Items {
		if err := measures.ValidateKey(it.Key); err != nil {
			t.Errorf("fleet key %s: %v", it.Key, err)
		}
	}
	// The LLD prototype with an aggregate is left out: a prototype has no single key to combine.
	if strings.Contains(strings.Join(got, "\n"), "topcategory") {
		t.Error("fleet aggregates an item prototype")
	}
	if len(f.Macros) != 1 || f.Macros[0].Macro != FleetGroupMacro || f.Macros[0].Value != "All Moodles" {
		t.Errorf("fleet macros = %+v", f.Macros)
	}
	if len(e.Groups) != 2 || e.Groups[0].Name != "All Moodles" || e.Groups[1].Name != DefaultTemplateGroup {
		t.Errorf("groups = %+v", e.Groups)
	}
	if len(f.Dashboards) != 1 || len(f.Dashboards[0].Pages) != 2 ||
		len(f.Dashboards[0].Pages[0].Widgets)+len(f.Dashboards[0].Pages[1].Widgets) != 4 {
		t.Errorf("fleet dashboard = %+v, want sites + 3 dashboard graphs on two pages", f.Dashboards)
	}
	// A maximum of states is a state: the fleet's cron state keeps the value map.
	if it := findItem(t, f, "moodle.fleet.general.cronstate"); it.ValueMap == nil || len(f.ValueMaps) != 1 || it.ValueMap.Name != f.ValueMaps[0].Name {
		t.Errorf("fleet cron state value map %+v, fleet value maps %+v", it.ValueMap, f.ValueMaps)
	}
	if k := Keys(e); k["moodle.fleet.users.connected"] || !k["moodle.users.connected"] || !k["moodle.topcategory.discovery"] {
		t.Errorf("Keys = %v: want host template keys and rules, no fleet keys", k)
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		version    string
		groupsKey  string
		widgetType string
		field      string
		width      string
		reference  bool
	}{
		{"6.0", "groups:", "GRAPH_CLASSIC", "graphid", "12", false},
		{"6.2", "template_groups:", "GRAPH_CLASSIC", "graphid", "12", false},
		{"6.4", "template_groups:", "graph", "graphid", "12", false},
		{"7.0", "template_groups:", "graph", "graphid.0", "36", true},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			e, err := Build(fixtureRegistry(t), Options{ZabbixVersion: tt.version})
			if err != nil {
				t.Fatal(err)
			}
			y, err := e.YAML()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(y, []byte("zabbix_export:\n  version: \""+tt.version+"\"\n  "+tt.groupsKey)) {
				t.Errorf("export starts with %q", y[:80])
			}
			if tt.version != "6.0" && !bytes.Contains(y, []byte("\n  host_groups:")) {
				t.Error("no host_groups section")
			}
			var w Widget
			for _, x := range mustTemplate(t, e, "Moodle").Dashboards[0].Pages[1].Widgets {
				if x.Name == "User accounts" {
					w = x
				}
			}
			if w.Type != tt.widgetType || w.Fields[0].Name != tt.field || w.Width != tt.width {
				t.Errorf("widget = %+v", w)
			}
			var fields []string
			for _, f := range w.Fields[1:] {
				fields = append(fields, fmt.Sprint(f.Name, "=", f.Value))
			}
			// 7.0: the reference, and the widget's own time period suited to daily values.
			want := ""
			if tt.reference {
				want = "reference=AAAAB time_period.from=now-30d time_period.to=now"
			}
			if got := strings.Join(fields, " "); got != want {
				t.Errorf("widget fields after the graph = %q, want %q", got, want)
			}
		})
	}
}

// TestDefaults checks that fields equal to the version's import default are omitted, and that
// 7.0, whose item history and rule lifetime defaults changed, keeps them explicit.
func TestDefaults(t *testing.T) {
	tests := []struct {
		version, history, lifetime string
	}{
		{"6.0", "", ""},
		{"6.4", "", ""},
		{"7.0", "90d", "30d"},
	}
	for _, tt := range tests {
		e, err := Build(fixtureRegistry(t), Options{ZabbixVersion: tt.version})
		if err != nil {
			t.Fatal(err)
		}
		m := mustTemplate(t, e, "Moodle")
		if h := findItem(t, m, "moodle.general.version").History; h != tt.history {
			t.Errorf("%s: history of a 90d item = %q, want %q", tt.version, h, tt.history)
		}
		if l := m.DiscoveryRules[0].Lifetime; l != tt.lifetime {
			t.Errorf("%s: lifetime of a 30d rule = %q, want %q", tt.version, l, tt.lifetime)
		}
		if tr := findItem(t, m, "moodle.users.connected").Trends; tr != "" {
			t.Errorf("%s: trends of a 365d item = %q, want it omitted", tt.version, tr)
		}
	}
}

func TestWidgetReference(t *testing.T) {
	for i, want := range map[int]string{0: "AAAAA", 1: "AAAAB", 25: "AAAAZ", 26: "AAABA", 27: "AAABB"} {
		if got := widgetReference(i); got != want {
			t.Errorf("widgetReference(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	conflict := func(mut func(*measures.Measure)) *measures.Registry {
		reg := fixtureRegistry(t)
		m := measures.Measure{
			Key: "moodle.extra.x", Name: "Extra", Description: "Extra.", Family: measures.Daily,
			Type: measures.Unsigned, Query: &measures.Query{Name: "extra", SQL: "SELECT 1"}, Column: "x",
		}
		mut(&m)
		reg.MustRegister(m)
		return reg
	}
	tests := []struct {
		name string
		reg  *measures.Registry
		opts Options
		want string
	}{
		{"version", fixtureRegistry(t), Options{ZabbixVersion: "5.4"}, `zabbix version "5.4"`},
		{"template", fixtureRegistry(t), Options{Templates: []string{"Nope"}}, `template "Nope": not in the registry`},
		{"macro", conflict(func(m *measures.Measure) {
			m.Triggers = []measures.Trigger{{Name: "x", Expression: "last({item})>{$MOODLE.USERS.CONNECTED.MAX}",
				Macros: []measures.Macro{{Name: "{$MOODLE.USERS.CONNECTED.MAX}", Value: "10"}}}}
		}), Options{}, "macro {$MOODLE.USERS.CONNECTED.MAX}"},
		{"valuemap", conflict(func(m *measures.Measure) {
			m.ValueMap = &measures.ValueMap{Name: "Moodle cron state", Mappings: []measures.Mapping{{Value: "0", NewValue: "Fine"}}}
		}), Options{}, `value map "Moodle cron state" differs`},
		{"fleet key", conflict(func(m *measures.Measure) { m.Key = "moodle.fleet.users.connected" }), Options{}, "fleet key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.reg, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSubset(t *testing.T) {
	e, err := Build(fixtureRegistry(t), Options{Templates: []string{"Moodle shop", "Moodle shop"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Templates) != 1 || e.Templates[0].Name != "Moodle shop" {
		t.Fatalf("templates = %+v", e.Templates)
	}
	for _, g := range e.Graphs {
		if g.GraphItems[0].Item.Host != "Moodle shop" {
			t.Errorf("graph %s of another template exported", g.Name)
		}
	}
	if len(e.Groups) != 1 {
		t.Errorf("groups = %+v: the sites host group belongs with the fleet template only", e.Groups)
	}
}

// TestYAMLShape decodes the YAML generically and checks what Zabbix's reader depends on: the
// root key, string scalars, and values YAML 1.1 readers would turn into booleans kept quoted.
func TestYAMLShape(t *testing.T) {
	e, err := Build(fixtureRegistry(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := e.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(y, &doc); err != nil {
		t.Fatal(err)
	}
	root, ok := doc["zabbix_export"].(map[string]any)
	if !ok || root["version"] != "6.0" {
		t.Fatalf("root = %v", doc)
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(c, path+"."+k)
			}
		case []any:
			for i, c := range x {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case string:
		default:
			t.Errorf("%s = %v (%T): every scalar must be a string", path, v, v)
		}
	}
	walk(root, "zabbix_export")
	if !bytes.Contains(y, []byte(`manual_close: "YES"`)) {
		t.Error(`manual_close is not written as the quoted string "YES"`)
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run go test ./templates -update to create it", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		line := 0
		for line < len(gl) && line < len(wl) && gl[line] == wl[line] {
			line++
		}
		show := func(ls []string) string {
			if line < len(ls) {
				return ls[line]
			}
			return "<end of file>"
		}
		t.Errorf("%s differs from the generated output at line %d:\n got: %s\nwant: %s\n"+
			"If the catalogue or the generator changed on purpose, run go test ./templates -update and review the diff.",
			path, line+1, show(gl), show(wl))
	}
}

func TestFixtureGolden(t *testing.T) {
	for _, v := range []string{"6.0", "7.0"} {
		e, err := Build(fixtureRegistry(t), Options{ZabbixVersion: v})
		if err != nil {
			t.Fatal(err)
		}
		y, err := e.YAML()
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "fixture-"+v+".yaml.golden", y)
	}
}
