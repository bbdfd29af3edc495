package measures

import (
	"reflect"
	"testing"
)

func TestGovern(t *testing.T) {
	d := &Discovery{Key: "moodle.discovery.x", Macros: []LLDMacro{{Macro: "{#ID}", Column: "id"}, {Macro: "{#NAME}", Column: "name"}},
		Population: "pop", Rank: "act"}
	row := func(id, pop, act string) Row { return Row{"id": id, "name": "n" + id, "pop": pop, "act": act} }
	rows := []Row{row("1", "10", "5"), row("2", "3", "100"), row("3", "8", "50"), row("4", "20", "1"), row("5", "1", "7")}
	ids := func(rs []Row) []string {
		var out []string
		for _, r := range rs {
			out = append(out, macroText(r["id"]))
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		cap, k   int
		disjoint bool
		kept     []string
		folded   int
		other    bool
		withheld bool
	}{
		{"no limit reached", 10, 1, false, []string{"1", "2", "3", "4", "5"}, 0, false, false},
		{"below k folded, other withheld", 10, 5, false, []string{"1", "3", "4"}, 2, false, true},
		{"below k folded, disjoint populations reach k", 10, 4, true, []string{"1", "3", "4"}, 2, true, false},
		{"disjoint populations below k", 10, 5, true, []string{"1", "3", "4"}, 2, false, true},
		{"cap keeps the most active, in query order", 2, 5, false, []string{"1", "3"}, 3, true, false},
		{"cap without k", 3, 1, false, []string{"2", "3", "5"}, 2, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.Disjoint = tc.disjoint
			kept, folded, g, err := govern(d, rows, tc.cap, tc.k, 2)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string(nil), tc.kept...)
			if tc.other {
				want = append(want, OtherID)
			}
			if got := ids(kept); !reflect.DeepEqual(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
			if len(folded) != tc.folded || g.Other != tc.other || g.Withheld != tc.withheld {
				t.Errorf("folded %d other %v withheld %v, want %d %v %v", len(folded), g.Other, g.Withheld, tc.folded, tc.other, tc.withheld)
			}
			if g.Items() != 10 {
				t.Errorf("items %d, want 10", g.Items())
			}
		})
	}
	if _, _, _, err := govern(d, []Row{{"id": "1", "name": "x"}}, 5, 5, 1); err == nil {
		t.Error("a row without its population column was accepted")
	}
}

func TestOtherValue(t *testing.T) {
	rows := []Row{{"id": "1", "v": "4"}, {"id": "2", "v": "6"}, {"id": "3", "v": "100"}}
	folded := map[string]bool{"1": true, "2": true}
	for agg, want := range map[Aggregate]float64{Sum: 10, NoAggregate: 10, Max: 6, Min: 4, Avg: 5} {
		got, err := otherValue(&Measure{Column: "v", Aggregate: agg}, "id", rows, folded)
		if err != nil || got != want {
			t.Errorf("%v: got %v, %v; want %v", agg, got, err, want)
		}
	}
}
