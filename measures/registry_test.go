package measures

import (
	"strings"
	"testing"
)

func validMeasure(key string) Measure {
	return Measure{
		Key: key, Name: "A count", Description: "Counts things.", Family: Daily, Type: Unsigned,
		Query: &Query{Name: "q." + key, SQL: "SELECT 1 AS n"}, Column: "n",
	}
}

func TestRegisterValidates(t *testing.T) {
	rule := &Discovery{Key: "moodle.discovery.things", Name: "Things", Description: "Finds things.", Family: Daily,
		Query: &Query{Name: "things", SQL: "SELECT 1 AS id"}, Macros: []LLDMacro{{Macro: "{#THING}", Column: "id"}}}
	shared := &Query{Name: "shared", SQL: "SELECT 1 AS a, 2 AS b"}
	tests := []struct {
		name string
		mut  func(m *Measure)
		want string
	}{
		{"bad key grammar", func(m *Measure) { m.Key = "moodle.bad key" }, "invalid character"},
		{"foreign namespace", func(m *Measure) { m.Key = "other.key" }, `start with "moodle."`},
		{"description not a sentence", func(m *Measure) { m.Description = "counts things" }, "capital letter"},
		{"description without full stop", func(m *Measure) { m.Description = "Counts things" }, "full stop"},
		{"no family", func(m *Measure) { m.Family = 0 }, "invalid family"},
		{"no value type", func(m *Measure) { m.Type = 0 }, "invalid value type"},
		{"text aggregated", func(m *Measure) { m.Type = Text; m.Aggregate = Sum }, "cannot be aggregated"},
		{"no query", func(m *Measure) { m.Query = nil }, "no query"},
		{"upper-case column", func(m *Measure) { m.Column = "N" }, "lower case"},
		{"macro without rule", func(m *Measure) { m.Key = "moodle.x[{#THING}]" }, "no discovery rule"},
		{"prototype without its macro", func(m *Measure) { m.Discovery = rule }, "must use its rule's macro"},
		{"prototype with a foreign macro", func(m *Measure) { m.Discovery = rule; m.Key = "moodle.x[{#THING},{#OTHER}]" }, "not provided"},
		{"trigger without {item}", func(m *Measure) { m.Triggers = []Trigger{{Name: "T", Expression: "last(/x/y)>1"}} }, "{item}"},
		{"graph colour without a graph", func(m *Measure) { m.GraphColor = "1E88E5" }, "graph colour"},
		{"graph colour not RRGGBB", func(m *Measure) { m.Graph = "G"; m.GraphColor = "blue" }, "graph colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry()
			m := validMeasure("moodle.test.count")
			tc.mut(&m)
			err := r.Register(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if len(r.Measures()) != 0 {
				t.Error("an invalid measure was registered")
			}
		})
	}

	t.Run("duplicate key", func(t *testing.T) {
		r := NewRegistry()
		r.MustRegister(validMeasure("moodle.test.a"))
		if err := r.Register(validMeasure("moodle.test.a")); err == nil || !strings.Contains(err.Error(), "duplicate") {
			t.Fatalf("error %v, want duplicate", err)
		}
	})
	t.Run("shared query across families", func(t *testing.T) {
		r := NewRegistry()
		a, b := validMeasure("moodle.test.a"), validMeasure("moodle.test.b")
		a.Query, b.Query, b.Family = shared, shared, Hourly
		if err := r.Register(a, b); err == nil || !strings.Contains(err.Error(), "across families") {
			t.Fatalf("error %v, want a family clash", err)
		}
	})
	t.Run("good prototype registers its rule", func(t *testing.T) {
		r := NewRegistry()
		m := validMeasure("moodle.test.per[{#THING}]")
		m.Discovery = rule
		r.MustRegister(m)
		if ds := r.Discoveries(); len(ds) != 1 || ds[0] != rule {
			t.Fatalf("discoveries %v", ds)
		}
	})
	t.Run("bad LLD macro", func(t *testing.T) {
		r := NewRegistry()
		bad := *rule
		bad.Macros = []LLDMacro{{Macro: "{#lower}", Column: "id"}}
		m := validMeasure("moodle.test.per[{#lower}]")
		m.Discovery = &bad
		if err := r.Register(m); err == nil || !strings.Contains(err.Error(), "bad LLD macro") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestMustRegisterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustRegister of an invalid measure did not panic")
		}
	}()
	NewRegistry().MustRegister(Measure{Key: "moodle.x"})
}

func TestTemplatesListsDefaultFirst(t *testing.T) {
	r := NewRegistry()
	a := validMeasure("moodle.test.a")
	b := validMeasure("moodle.test.b")
	b.Template = "Moodle performance"
	r.MustRegister(b, a)
	got := r.Templates()
	if len(got) != 2 || got[0] != DefaultTemplate || got[1] != "Moodle performance" {
		t.Errorf("Templates() = %q", got)
	}
}
