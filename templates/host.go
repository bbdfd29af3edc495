package templates

import (
	"fmt"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// hostBuild is the state of one host template while hostTemplate assembles it, step by step.
type hostBuild struct {
	name   string
	items  []*measures.Measure            // measures that are items, by key
	protos map[string][]*measures.Measure // item prototypes by discovery rule key
	rules  []*measures.Discovery          // the template's discovery rules
	t      Template
	macros *macroSet
	vmaps  *valueMapSet
}

// hostTemplate builds one template of trapper items from the registry, in named steps: select
// its measures, then items, nodata triggers, discovery rules, graphs and dashboard, and finally
// macros and value maps.
func (b *builder) hostTemplate(name string) error {
	h, err := b.selectMeasures(name)
	if err != nil {
		return err
	}
	steps := []func(*hostBuild) error{b.addItems, b.addNodataTriggers, b.addDiscoveryRules, b.addGraphs}
	for _, step := range steps {
		if err := step(h); err != nil {
			return err
		}
	}
	h.t.Macros = h.macros.list()
	h.t.ValueMaps = h.vmaps.list()
	b.exp.Templates = append(b.exp.Templates, h.t)
	return nil
}

// selectMeasures gathers the template's items, item prototypes and discovery rules, refusing a
// prototype whose rule lives in another template.
func (b *builder) selectMeasures(name string) (*hostBuild, error) {
	h := &hostBuild{
		name:   name,
		protos: map[string][]*measures.Measure{},
		macros: newMacroSet(),
		vmaps:  newValueMapSet(name),
		t: Template{
			UUID:     UUID(name, "template"),
			Template: name,
			Name:     name,
			Description: "Moodle measures pushed by moodle-zabbix through the Zabbix sender protocol (trapper items). " +
				"Generated from the measure catalogue: regenerate it rather than editing it, since a re-import overwrites changes.",
			Groups: []NameRef{{Name: b.opts.TemplateGroup}},
		},
	}
	for _, m := range b.reg.Measures() {
		if m.TemplateName() != name {
			continue
		}
		if m.Discovery == nil {
			h.items = append(h.items, m)
			continue
		}
		if m.Discovery.TemplateName() != name {
			return nil, fmt.Errorf("measure %s: item prototype in template %s but its rule %s is in template %s",
				m.Key, name, m.Discovery.Key, m.Discovery.TemplateName())
		}
		h.protos[m.Discovery.Key] = append(h.protos[m.Discovery.Key], m)
	}
	for _, d := range b.reg.Discoveries() {
		if d.TemplateName() == name {
			h.rules = append(h.rules, d)
		}
	}
	sortByKey(h.items)
	return h, nil
}

// addItems adds one trapper item per measure with its own triggers; a trigger that uses other
// items goes to the top level of the export.
func (b *builder) addItems(h *hostBuild) error {
	for _, m := range h.items {
		it := b.item(h.name, "item", m)
		for _, tr := range m.Triggers {
			trig := b.trigger(h.name, "trigger", m, tr)
			if usesOtherItems(tr) {
				b.exp.Triggers = append(b.exp.Triggers, trig)
			} else {
				it.Triggers = append(it.Triggers, trig)
			}
			if err := h.macros.addAll(tr.Macros, "measure "+m.Key); err != nil {
				return err
			}
		}
		if err := h.vmaps.add(m); err != nil {
			return err
		}
		h.t.Items = append(h.t.Items, it)
	}
	return nil
}

// addDiscoveryRules adds the template's discovery rules with their item and trigger prototypes.
func (b *builder) addDiscoveryRules(h *hostBuild) error {
	for _, d := range h.rules {
		ps := h.protos[d.Key]
		sortByKey(ps)
		lifetime := d.Lifetime
		if lifetime == "" {
			lifetime = DefaultLifetime
		}
		r := DiscoveryRule{
			UUID:        UUID(h.name, "discovery", d.Key),
			Name:        d.Name,
			Type:        "TRAP",
			Key:         d.Key,
			Delay:       "0",
			Lifetime:    lifetime,
			Description: describeRule(d),
		}
		for _, m := range ps {
			it := b.item(h.name, "prototype", m)
			for _, tr := range m.Triggers {
				trig := b.trigger(h.name, "trigger_prototype", m, tr)
				if usesOtherItems(tr) {
					r.TriggerPrototypes = append(r.TriggerPrototypes, trig)
				} else {
					it.TriggerPrototypes = append(it.TriggerPrototypes, trig)
				}
				if err := h.macros.addAll(tr.Macros, "measure "+m.Key); err != nil {
					return err
				}
			}
			sortTriggers(it.TriggerPrototypes)
			if err := h.vmaps.add(m); err != nil {
				return err
			}
			r.ItemPrototypes = append(r.ItemPrototypes, it)
		}
		sortTriggers(r.TriggerPrototypes)
		h.t.DiscoveryRules = append(h.t.DiscoveryRules, r)
	}
	return nil
}

// addGraphs adds the template's graphs (top level) and graph prototypes (under their rule), and
// the dashboard of those marked for it.
func (b *builder) addGraphs(h *hostBuild) error {
	graphs, err := b.graphs(h.name, append(append([]*measures.Measure(nil), h.items...), flatten(h.protos)...))
	if err != nil {
		return err
	}
	var dash []dashGraph
	for _, g := range graphs {
		if g.rule == "" {
			b.exp.Graphs = append(b.exp.Graphs, g.graph)
		} else {
			for i := range h.t.DiscoveryRules {
				if h.t.DiscoveryRules[i].Key == g.rule {
					h.t.DiscoveryRules[i].GraphPrototypes = append(h.t.DiscoveryRules[i].GraphPrototypes, g.graph)
				}
			}
		}
		if g.dashboard || longScale(g.family) {
			dash = append(dash, dashGraph{name: g.graph.Name, prototype: g.rule != "", family: g.family})
		}
	}
	if len(dash) > 0 || (b.fl.wideGrid && len(figuresFor(&h.t, func(k string) string { return k })) > 0) {
		h.t.Dashboards = []Dashboard{b.dashboard(h.name, h.name+" overview", dash, figuresFor(&h.t, func(k string) string { return k }))}
	}
	return nil
}
