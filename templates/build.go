// Package templates generates the Zabbix templates of moodle-zabbix from the measure registry:
// one host template per template name in the registry ("Moodle", "Moodle performance", one per
// contrib pack) with its trapper items, discovery rules, triggers, macros, value maps, graphs
// and dashboard, plus the "Moodle fleet" template of calculated items that aggregate a host
// group of Moodle sites. Nothing is written by hand: every object comes from a measure or a
// discovery rule, and every object has a deterministic UUID so that re-importing a regenerated
// file updates the existing objects in place.
package templates

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Defaults used when Options leaves a field empty.
const (
	// DefaultVersion is the export format written when Options.ZabbixVersion is empty.
	DefaultVersion = "6.0"
	// DefaultFleetGroup is the host group whose hosts the fleet template aggregates.
	DefaultFleetGroup = "Moodle sites"
	// DefaultTemplateGroup is the template group every generated template belongs to.
	DefaultTemplateGroup = "Templates/Moodle"
	// FleetTemplate is the name of the template of calculated fleet items.
	FleetTemplate = "Moodle fleet"
	// FleetGroupMacro is the user macro naming the aggregated host group in fleet formulas.
	FleetGroupMacro = "{$MOODLE.FLEET.GROUP}"
	// FleetKeyPrefix starts the key of every fleet item; the measure's key follows without its
	// "moodle." prefix, so moodle.users.active becomes moodle.fleet.users.active.
	FleetKeyPrefix = "moodle.fleet."
	// SourceTag is the value of the "source" tag put on every generated item.
	SourceTag = "moodle-zabbix"
	// DefaultLifetime is how long a discovery rule keeps lost entities when it names no lifetime.
	DefaultLifetime = "30d"
)

// Versions lists the export format versions Build can write.
var Versions = []string{"6.0", "6.2", "6.4", "7.0"}

// Options select what Build writes. The zero value writes every template in the 6.0 format.
type Options struct {
	// ZabbixVersion is the export format: "6.0" (default), "6.2", "6.4" or "7.0".
	ZabbixVersion string
	// Templates restricts the export to these template names (FleetTemplate included); empty
	// means every template of the registry plus the fleet template.
	Templates []string
	// FleetGroup is the default of {$MOODLE.FLEET.GROUP}, the host group of Moodle sites the
	// fleet template aggregates (default "Moodle sites").
	FleetGroup string
	// TemplateGroup is the template group of every template (default "Templates/Moodle").
	TemplateGroup string
	// FleetPacks restricts the fleet template's items for contrib pack measures to these
	// templates (the packs some site of a fleet lists); nil keeps every pack, an empty non-nil
	// slice none. The core templates' measures are always aggregated.
	FleetPacks []string
}

func (o Options) withDefaults() Options {
	if o.ZabbixVersion == "" {
		o.ZabbixVersion = DefaultVersion
	}
	if o.FleetGroup == "" {
		o.FleetGroup = DefaultFleetGroup
	}
	if o.TemplateGroup == "" {
		o.TemplateGroup = DefaultTemplateGroup
	}
	return o
}

// familyPolicy holds the per-family defaults of generated objects.
type familyPolicy struct {
	history string // history retention of an item
	trends  string // trends retention of a numeric item
	nodata  string // default of {$MOODLE.NODATA.<FAMILY>}: a bit more than the family's period
	// fleetDelay is how often a fleet calculated item is recomputed: often enough that a new
	// period's values show up in the fleet total soon after the sites send them.
	fleetDelay string
	priority   measures.Severity // severity of the family's nodata trigger
}

var policies = map[measures.Family]familyPolicy{
	measures.Instant: {history: "14d", trends: "365d", nodata: "5m", fleetDelay: "1m", priority: measures.Average},
	measures.Hourly:  {history: "90d", trends: "730d", nodata: "2h", fleetDelay: "5m", priority: measures.Warning},
	measures.Daily:   {history: "730d", trends: "1825d", nodata: "26h", fleetDelay: "1h", priority: measures.Warning},
	measures.Weekly:  {history: "1825d", trends: "1825d", nodata: "8d", fleetDelay: "1h", priority: measures.Warning},
	measures.Monthly: {history: "3650d", trends: "3650d", nodata: "32d", fleetDelay: "1h", priority: measures.Warning},
}

// NodataMacro returns the user macro holding the nodata period of family f, for example
// {$MOODLE.NODATA.DAILY}.
func NodataMacro(f measures.Family) string {
	return "{$MOODLE.NODATA." + strings.ToUpper(f.String()) + "}"
}

// HeartbeatKey is the measure preferred as a family's heartbeat (for nodata triggers) and for
// counting the sites of a fleet, when the registry has it.
const HeartbeatKey = "moodle.general.instance"

// flavour holds what differs between export format versions.
type flavour struct {
	version string
	// splitGroups writes template_groups and host_groups (6.2+) instead of groups (6.0).
	splitGroups bool
	// moduleWidgets names widget types by module id ("graph", 6.4+) rather than by constant
	// ("GRAPH_CLASSIC", 6.0 and 6.2).
	moduleWidgets bool
	// wideGrid uses the 72-column dashboard grid, indexed field names ("graphid.0") and widget
	// references (7.0).
	wideGrid bool
}

func flavourFor(version string) (flavour, error) {
	switch version {
	case "6.0":
		return flavour{version: version}, nil
	case "6.2":
		return flavour{version: version, splitGroups: true}, nil
	case "6.4":
		return flavour{version: version, splitGroups: true, moduleWidgets: true}, nil
	case "7.0":
		return flavour{version: version, splitGroups: true, moduleWidgets: true, wideGrid: true}, nil
	}
	return flavour{}, fmt.Errorf("zabbix version %q: want one of %s", version, strings.Join(Versions, ", "))
}

// builder accumulates one export.
type builder struct {
	reg  *measures.Registry
	opts Options
	fl   flavour
	exp  *Export
	// nodataOwner names, per family, the template that carries the family's nodata trigger.
	nodataOwner map[measures.Family]string
}

// Build generates the export of the registry's templates. It returns an error when the
// registry holds definitions that cannot form a valid template (two value maps or two macros of
// the same name that disagree, a prototype in another template than its rule, a graph mixing
// two discovery rules), when a requested template does not exist, or when the version is not
// supported. The fleet template is part of the output unless Options.Templates leaves it out.
func Build(reg *measures.Registry, opts Options) (*Export, error) {
	opts = opts.withDefaults()
	fl, err := flavourFor(opts.ZabbixVersion)
	if err != nil {
		return nil, err
	}
	b := &builder{reg: reg, opts: opts, fl: fl, exp: &Export{Version: fl.version}, nodataOwner: nodataOwners(reg)}

	names := append(reg.Templates(), FleetTemplate)
	selected := names
	if len(opts.Templates) > 0 {
		selected = nil
		for _, want := range opts.Templates {
			if !slices.Contains(names, want) {
				return nil, fmt.Errorf("template %q: not in the registry (have %s)", want, strings.Join(names, ", "))
			}
			if !slices.Contains(selected, want) {
				selected = append(selected, want)
			}
		}
	}
	sort.Strings(selected)

	for _, name := range selected {
		if name == FleetTemplate {
			if err := b.fleet(); err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			continue
		}
		if err := b.hostTemplate(name); err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
	}
	b.groups(slices.Contains(selected, FleetTemplate))
	b.omitDefaults()
	sort.SliceStable(b.exp.Triggers, func(i, j int) bool { return b.exp.Triggers[i].Name < b.exp.Triggers[j].Name })
	sort.SliceStable(b.exp.Graphs, func(i, j int) bool { return graphLess(b.exp.Graphs[i], b.exp.Graphs[j]) })
	return b.exp, nil
}

func graphLess(a, b Graph) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.GraphItems[0].Item.Host < b.GraphItems[0].Item.Host
}

// omitDefaults blanks the fields equal to the import default of the version, as Zabbix's own
// exports do (item delay 1m, trends 365d, history 90d, rule lifetime 30d);
// configuration.importcompare otherwise reports them as changes on every re-import.
// Zabbix 7.0 changed the defaults of item history (31d) and rule lifetime (7d), so those stay
// explicit there unless they equal the new default.
func (b *builder) omitDefaults() {
	history, lifetime := "90d", DefaultLifetime
	if b.fl.wideGrid {
		history, lifetime = "31d", "7d"
	}
	item := func(it *Item) {
		if it.History == history {
			it.History = ""
		}
		if it.Trends == "365d" {
			it.Trends = ""
		}
		if it.Delay == "1m" {
			it.Delay = ""
		}
	}
	for ti := range b.exp.Templates {
		t := &b.exp.Templates[ti]
		for i := range t.Items {
			item(&t.Items[i])
		}
		for ri := range t.DiscoveryRules {
			r := &t.DiscoveryRules[ri]
			if lifetime != "" && r.Lifetime == lifetime {
				r.Lifetime = ""
			}
			for i := range r.ItemPrototypes {
				item(&r.ItemPrototypes[i])
			}
		}
	}
}

// groups adds the template group and, with the fleet template, the host group of sites.
func (b *builder) groups(withFleet bool) {
	tg := Group{UUID: UUID("group", b.opts.TemplateGroup), Name: b.opts.TemplateGroup}
	var hg []Group
	if withFleet && b.opts.FleetGroup != b.opts.TemplateGroup {
		hg = append(hg, Group{UUID: UUID("group", b.opts.FleetGroup), Name: b.opts.FleetGroup})
	}
	if b.fl.splitGroups {
		b.exp.TemplateGroups = []Group{tg}
		b.exp.HostGroups = hg
		return
	}
	b.exp.Groups = append([]Group{tg}, hg...)
	sort.Slice(b.exp.Groups, func(i, j int) bool { return b.exp.Groups[i].Name < b.exp.Groups[j].Name })
}

func flatten(m map[string][]*measures.Measure) []*measures.Measure {
	var out []*measures.Measure
	for _, ms := range m {
		out = append(out, ms...)
	}
	sortByKey(out)
	return out
}

func sortByKey(ms []*measures.Measure) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Key < ms[j].Key })
}

func sortTriggers(ts []Trigger) {
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
}

// itemRef is an item reference in a trigger expression: /Template/key.
func itemRef(template, key string) string { return "/" + template + "/" + key }

// usesOtherItems reports whether a trigger's expressions reference items other than {item}, in
// which case Zabbix keeps it at the top level of the export rather than under the item.
func usesOtherItems(t measures.Trigger) bool {
	for _, e := range []string{t.Expression, t.Recovery} {
		if strings.Contains(strings.ReplaceAll(e, "{item}", ""), "(/") {
			return true
		}
	}
	return false
}

// heartbeat chooses the item whose absence means the family's run stopped: HeartbeatKey when
// it belongs to the family, otherwise the first numeric measure (by key) that needs no plugin
// and no optional setting, otherwise the first numeric one, otherwise the first one.
func heartbeat(items []*measures.Measure, f measures.Family) *measures.Measure {
	var fam []*measures.Measure
	for _, m := range items {
		if m.Family == f {
			fam = append(fam, m)
		}
	}
	for _, m := range fam {
		if m.Key == HeartbeatKey {
			return m
		}
	}
	for _, m := range fam {
		if m.Type.Numeric() && m.Query != nil && m.Query.Component == "" && m.Query.Skip == nil {
			return m
		}
	}
	for _, m := range fam {
		if m.Type.Numeric() {
			return m
		}
	}
	if len(fam) > 0 {
		return fam[0]
	}
	return nil
}

// item builds the trapper item (or item prototype) of a measure.
func (b *builder) item(template, kind string, m *measures.Measure) Item {
	p := policies[m.Family]
	it := Item{
		UUID:        UUID(template, kind, m.Key),
		Name:        m.Name,
		Type:        "TRAP",
		Key:         m.Key,
		Delay:       "0",
		History:     firstNonEmpty(m.History, p.history),
		Trends:      firstNonEmpty(m.Trends, p.trends),
		ValueType:   valueType(m.Type),
		Units:       ItemUnits(m.Units),
		Description: describe(m),
		Tags:        itemTags(m),
	}
	if !m.Type.Numeric() {
		it.Trends = "0"
	}
	if m.ValueMap != nil {
		it.ValueMap = &NameRef{Name: m.ValueMap.Name}
	}
	return it
}

// valueType is the export form of a value type; UNSIGNED, the default, is omitted.
func valueType(t measures.ValueType) string {
	if t == measures.Unsigned {
		return ""
	}
	return t.String()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// describe is an item's description: the measure's, its family, and what it fixes.
func describe(m *measures.Measure) string {
	var sb strings.Builder
	sb.WriteString(strings.TrimSpace(m.Description))
	sb.WriteString("\n\nFamily: ")
	sb.WriteString(m.Family.String())
	sb.WriteString(".")
	if m.Legacy {
		sb.WriteString("\nKey inherited unchanged from report_zabbix.")
	}
	if f := strings.TrimSpace(m.Fixes); f != "" {
		sb.WriteString("\nFixes report_zabbix: ")
		sb.WriteString(f)
	}
	return sb.String()
}

func describeRule(d *measures.Discovery) string {
	macros := make([]string, len(d.Macros))
	for i, m := range d.Macros {
		macros[i] = m.Macro
	}
	return strings.TrimSpace(d.Description) + "\n\nFamily: " + d.Family.String() +
		". Macros: " + strings.Join(macros, ", ") + "."
}

// itemTags are the tags of a measure's item: component (its domain), family and source.
func itemTags(m *measures.Measure) []Tag {
	return []Tag{
		{Tag: "component", Value: domain(m)},
		{Tag: "family", Value: m.Family.String()},
		{Tag: "source", Value: SourceTag},
	}
}

// domain is the measure's Domain, or else the key segment after "moodle.".
func domain(m *measures.Measure) string {
	if m.Domain != "" {
		return m.Domain
	}
	name, _, _ := measures.ParseKey(m.Key)
	parts := strings.Split(name, ".")
	if len(parts) > 1 {
		return parts[1]
	}
	return "general"
}

// trigger builds a trigger (or prototype) of a measure, with {item} replaced by the reference.
func (b *builder) trigger(template, kind string, m *measures.Measure, t measures.Trigger) Trigger {
	ref := itemRef(template, m.Key)
	out := Trigger{
		UUID:        UUID(template, kind, m.Key, t.Name),
		Expression:  strings.ReplaceAll(t.Expression, "{item}", ref),
		Name:        t.Name,
		Priority:    t.Severity.String(),
		Description: strings.TrimSpace(t.Description),
	}
	if t.Severity == measures.NotClassified {
		out.Priority = ""
	}
	if t.Recovery != "" {
		out.RecoveryMode = "RECOVERY_EXPRESSION"
		out.RecoveryExpression = strings.ReplaceAll(t.Recovery, "{item}", ref)
	}
	if t.ManualClose {
		out.ManualClose = "YES"
	}
	// The value that raised the problem shows beside it, so its name needs no number (and no
	// "(1 runs)").
	if !strings.Contains(t.Expression, "nodata(") && !strings.Contains(t.Name, "{ITEM.LASTVALUE}") && !usesOtherItems(t) {
		out.OpData = "{ITEM.LASTVALUE}"
	}
	return out
}

// macroSet collects user macros, refusing two definitions that disagree.
type macroSet struct {
	byName map[string]measures.Macro
	from   map[string]string
}

func newMacroSet() *macroSet {
	return &macroSet{byName: map[string]measures.Macro{}, from: map[string]string{}}
}

func (s *macroSet) add(m measures.Macro, subject string) error {
	if old, ok := s.byName[m.Name]; ok {
		if old.Value != m.Value {
			return fmt.Errorf("%s: macro %s defaults to %q but %s sets %q", subject, m.Name, m.Value, s.from[m.Name], old.Value)
		}
		if old.Description == "" && m.Description != "" {
			s.byName[m.Name] = m
		}
		return nil
	}
	s.byName[m.Name] = m
	s.from[m.Name] = subject
	return nil
}

// addDefault adds a macro unless one of that name is already defined, whose value then wins.
func (s *macroSet) addDefault(m measures.Macro) error {
	if _, ok := s.byName[m.Name]; ok {
		return nil
	}
	return s.add(m, "generated default")
}

func (s *macroSet) addAll(ms []measures.Macro, subject string) error {
	for _, m := range ms {
		if err := s.add(m, subject); err != nil {
			return err
		}
	}
	return nil
}

func (s *macroSet) list() []Macro {
	var out []Macro
	for _, m := range s.byName {
		out = append(out, Macro{Macro: m.Name, Value: m.Value, Description: strings.TrimSpace(m.Description)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Macro < out[j].Macro })
	return out
}

// valueMapSet collects a template's value maps, refusing two different maps of one name.
type valueMapSet struct {
	template string
	byName   map[string]*measures.ValueMap
	from     map[string]string
}

func newValueMapSet(template string) *valueMapSet {
	return &valueMapSet{template: template, byName: map[string]*measures.ValueMap{}, from: map[string]string{}}
}

func (s *valueMapSet) add(m *measures.Measure) error {
	vm := m.ValueMap
	if vm == nil {
		return nil
	}
	if vm.Name == "" || len(vm.Mappings) == 0 {
		return fmt.Errorf("measure %s: value map needs a name and at least one mapping", m.Key)
	}
	if old, ok := s.byName[vm.Name]; ok {
		if !slices.Equal(old.Mappings, vm.Mappings) {
			return fmt.Errorf("measure %s: value map %q differs from the one of measure %s", m.Key, vm.Name, s.from[vm.Name])
		}
		return nil
	}
	s.byName[vm.Name] = vm
	s.from[vm.Name] = m.Key
	return nil
}

func (s *valueMapSet) list() []ValueMap {
	var out []ValueMap
	for name, vm := range s.byName {
		v := ValueMap{UUID: UUID(s.template, "valuemap", name), Name: name}
		for _, mp := range vm.Mappings {
			v.Mappings = append(v.Mappings, Mapping{Value: mp.Value, NewValue: mp.NewValue})
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// palette holds the line colours of graphs, used in order; a graph of more lines reuses them.
var palette = []string{
	"1E88E5", "E53935", "43A047", "FB8C00", "8E24AA", "00ACC1",
	"6D4C41", "D81B60", "7CB342", "3949AB", "FDD835", "546E7A",
}

// builtGraph is a graph with where it goes.
type builtGraph struct {
	graph     Graph
	rule      string // discovery rule key for a graph prototype, "" for a graph
	dashboard bool
	family    measures.Family // the slowest family among the graph's measures
}

// graphs builds one graph per distinct Measure.Graph name; a graph of item prototypes becomes a
// graph prototype of their rule.
func (b *builder) graphs(template string, ms []*measures.Measure) ([]builtGraph, error) {
	byName := map[string][]*measures.Measure{}
	var names []string
	for _, m := range ms {
		if m.Graph == "" {
			continue
		}
		if _, ok := byName[m.Graph]; !ok {
			names = append(names, m.Graph)
		}
		byName[m.Graph] = append(byName[m.Graph], m)
	}
	sort.Strings(names)
	var out []builtGraph
	for _, name := range names {
		members := byName[name]
		sortByKey(members)
		var rule *measures.Discovery
		dash := false
		family := members[0].Family
		for _, m := range members {
			family = slowest(family, m.Family)
			if m.Discovery != nil {
				if rule != nil && rule != m.Discovery {
					return nil, fmt.Errorf("graph %q: mixes prototypes of rules %s and %s", name, rule.Key, m.Discovery.Key)
				}
				rule = m.Discovery
			}
			dash = dash || m.Dashboard
		}
		g := Graph{Name: name}
		kind := "graph"
		ruleKey := ""
		if rule != nil {
			kind = "graph_prototype"
			ruleKey = rule.Key
			if !strings.Contains(name, "{#") {
				g.Name = name + " (" + rule.IDMacro().Macro + ")"
			}
		}
		g.UUID = UUID(template, kind, name)
		for i, m := range members {
			gi := GraphItem{Color: lineColour(m), Item: ItemRef{Host: template, Key: m.Key}}
			if i > 0 {
				gi.SortOrder = strconv.Itoa(i)
			}
			g.GraphItems = append(g.GraphItems, gi)
		}
		setDrawType(&g, family)
		out = append(out, builtGraph{graph: g, rule: ruleKey, dashboard: dash, family: family})
	}
	return out, nil
}

// widgetReference is the i-th five-letter widget reference (AAAAA, AAAAB, ...), unique within a
// dashboard, which Zabbix 7.0 requires of graph widgets.
func widgetReference(i int) string {
	b := []byte("AAAAA")
	for p := len(b) - 1; p >= 0 && i > 0; p-- {
		b[p] = byte('A' + i%26)
		i /= 26
	}
	return string(b)
}
