package templates

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// nodataOwners chooses, for each family, the one template that watches it with a nodata
// trigger: the default template when it has an item of the family, otherwise the performance
// template, otherwise the first other template (by name) that has one. Every site links both
// core templates and a contrib pack's template only beside them, so one nodata trigger per
// family and host is enough: a stopped collector raises one problem, not one per template.
func nodataOwners(reg *measures.Registry) map[measures.Family]string {
	order := []string{measures.DefaultTemplate, measures.PerformanceTemplate}
	rest := reg.Templates()
	slices.Sort(rest)
	for _, n := range rest {
		if !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	byTemplate := map[string][]*measures.Measure{}
	for _, m := range reg.Measures() {
		if m.Discovery == nil {
			byTemplate[m.TemplateName()] = append(byTemplate[m.TemplateName()], m)
		}
	}
	owners := map[measures.Family]string{}
	for _, f := range measures.Families {
		for _, n := range order {
			if heartbeat(byTemplate[n], f) != nil {
				owners[f] = n
				break
			}
		}
	}
	return owners
}

// nodataTriggerName is the problem name of a family's generated nodata trigger.
func nodataTriggerName(f measures.Family) string {
	return fmt.Sprintf("No %s values from moodle-zabbix on {HOST.NAME} for %s", f, NodataMacro(f))
}

// addNodataTriggers adds a nodata trigger per family the template owns (see nodataOwners), on
// the family's heartbeat item, unless the catalogue already watches the family with a nodata
// trigger of its own. Every family's trigger depends on the instant one, so that a stopped
// collector shows as one problem rather than one per family as their periods run out.
func (b *builder) addNodataTriggers(h *hostBuild) error {
	var instant *Trigger // the instant family's nodata trigger, which the others depend on
	var generated []*Trigger
	for _, f := range measures.Families {
		if b.nodataOwner[f] != h.name {
			continue
		}
		hb := heartbeat(h.items, f)
		if hb == nil {
			continue
		}
		p := policies[f]
		mac := NodataMacro(f)
		if err := h.macros.addDefault(measures.Macro{
			Name:        mac,
			Value:       p.nodata,
			Description: fmt.Sprintf("How long without any %s value before the nodata trigger fires: a bit more than the family's period.", f),
		}); err != nil {
			return err
		}
		if own := catalogueNodata(h, f); own != nil {
			if f == measures.Instant {
				instant = own
			}
			continue
		}
		trig := Trigger{
			UUID:       UUID(h.name, "nodata", f.String()),
			Expression: fmt.Sprintf("nodata(%s,%s)=1", itemRef(h.name, hb.Key), mac),
			Name:       nodataTriggerName(f),
			Priority:   p.priority.String(),
			Description: fmt.Sprintf("Nothing reached the %s item of the %s family for longer than %s: the %s run of "+
				"moodle-zabbix for this site is not scheduled, fails, or cannot reach Zabbix.", hb.Key, f, mac, f),
		}
		for i := range h.t.Items {
			if h.t.Items[i].Key == hb.Key {
				h.t.Items[i].Triggers = append(h.t.Items[i].Triggers, trig)
				tr := &h.t.Items[i].Triggers[len(h.t.Items[i].Triggers)-1]
				if f == measures.Instant {
					instant = tr
				} else {
					generated = append(generated, tr)
				}
			}
		}
	}
	if instant != nil {
		for _, tr := range generated {
			tr.Dependencies = []TriggerDependency{{Name: instant.Name, Expression: instant.Expression}}
		}
	}
	for i := range h.t.Items {
		sortTriggers(h.t.Items[i].Triggers)
	}
	return nil
}

// catalogueNodata returns the template's own nodata trigger of family f from the catalogue, as
// it appears in the export, or nil.
func catalogueNodata(h *hostBuild, f measures.Family) *Trigger {
	for _, m := range h.items {
		if m.Family != f {
			continue
		}
		for _, tr := range m.Triggers {
			if !strings.Contains(tr.Expression, "nodata(") || usesOtherItems(tr) {
				continue
			}
			for i := range h.t.Items {
				if h.t.Items[i].Key != m.Key {
					continue
				}
				for j := range h.t.Items[i].Triggers {
					if h.t.Items[i].Triggers[j].Name == tr.Name {
						return &h.t.Items[i].Triggers[j]
					}
				}
			}
		}
	}
	return nil
}
