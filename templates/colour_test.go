package templates

import (
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// allGraphs returns every graph and graph prototype of an export, by template and name.
func allGraphs(e *Export) map[string]Graph {
	out := map[string]Graph{}
	for _, g := range e.Graphs {
		host := ""
		if len(g.GraphItems) > 0 {
			host = g.GraphItems[0].Item.Host
		}
		out[host+": "+g.Name] = g
	}
	for _, tpl := range e.Templates {
		for _, r := range tpl.DiscoveryRules {
			for _, g := range r.GraphPrototypes {
				out[tpl.Template+": "+g.Name] = g
			}
		}
	}
	return out
}

// TestLineColoursDistinct requires the lines of every graph of the catalogue to have distinct
// colours.
func TestLineColoursDistinct(t *testing.T) {
	for name, g := range allGraphs(catalogueExport(t, DefaultVersion)) {
		byColour := map[string]string{}
		for _, gi := range g.GraphItems {
			if other, dup := byColour[gi.Color]; dup {
				t.Errorf("graph %q draws %s and %s in the same colour %s: set GraphColor on the newer measure to a colour the graph does not use",
					name, other, gi.Item.Key, gi.Color)
			}
			byColour[gi.Color] = gi.Item.Key
		}
	}
}

// TestLineColoursSurviveNewMeasure adds a measure whose key sorts first to a graph and requires
// every line already drawn to keep its colour, in the site and in the fleet templates.
func TestLineColoursSurviveNewMeasure(t *testing.T) {
	colours := func(reg *measures.Registry) map[string]string {
		e, err := Build(reg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for name, g := range allGraphs(e) {
			for _, gi := range g.GraphItems {
				out[name+" / "+gi.Item.Key] = gi.Color
			}
		}
		return out
	}
	before := colours(fixtureRegistry(t))
	reg := fixtureRegistry(t)
	reg.MustRegister(measures.Measure{
		Key: "moodle.users.aaa", Name: "Users first", Description: "A line added in front of the others.",
		Family: measures.Instant, Type: measures.Unsigned, Units: "users",
		Query: &measures.Query{Name: "fixture.added", SQL: "SELECT 1 AS v"}, Column: "v",
		Aggregate: measures.Sum, Domain: "users", Graph: "Users online",
	})
	after := colours(reg)
	if len(after) != len(before)+2 {
		t.Fatalf("the added measure drew %d lines, want 2 (site and fleet)", len(after)-len(before))
	}
	for line, c := range before {
		if after[line] != c {
			t.Errorf("%s: colour %s became %s when a measure was added", line, c, after[line])
		}
	}
}

// TestGraphColorOverrides checks that a measure's GraphColor is the colour of its line.
func TestGraphColorOverrides(t *testing.T) {
	m := &measures.Measure{Key: "moodle.users.connected", GraphColor: "abcdef"}
	if got := lineColour(m); got != "ABCDEF" {
		t.Errorf("lineColour = %s, want ABCDEF", got)
	}
	m.GraphColor = ""
	if got := lineColour(m); got != lineColour(&measures.Measure{Key: "moodle.users.connected"}) {
		t.Errorf("lineColour depends on more than the key: %s", got)
	}
}
