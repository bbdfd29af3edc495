package catalogue_test

import (
	"sort"
	"strconv"
)

// The discovery rules' governance as the expectations compute it, independently of the
// runner: entities below the k-threshold and beyond the cap are folded into "other", which is
// sent only when it provably holds k people.

// testK is the k-threshold of the test sites (the product's default).
const testK = 5

// testCaps are the caps of the test sites: small enough for the component rule to fold.
var testCaps = map[string]int{"moodle.discovery.components": 4}

// testCap returns the cap of a rule on the test sites.
func testCap(rule string) int {
	if n, ok := testCaps[rule]; ok {
		return n
	}
	return 50
}

// seg is a discovered entity: its identifier, its LLD macros, its population and its rank.
type seg struct {
	id        string
	macros    map[string]string
	pop, rank float64
}

// governedSegs is the outcome of governance for one rule.
type governedSegs struct {
	kept   []seg
	folded map[string]bool
	other  bool
	names  []string // the rule's macros, for the other entity
}

// governSegs folds segs (in discovery order) as the rule must: below k first, then beyond the
// cap by rank. disjoint says populations of folded segments add up.
func governSegs(rule string, segs []seg, names []string, disjoint bool) governedSegs {
	g := governedSegs{folded: map[string]bool{}, names: names}
	var rest []seg
	var smallSum float64
	for _, s := range segs {
		if s.pop < testK {
			g.folded[s.id] = true
			smallSum += s.pop
			continue
		}
		rest = append(rest, s)
	}
	capped := false
	if limit := testCap(rule); len(rest) > limit {
		byRank := append([]seg(nil), rest...)
		sort.SliceStable(byRank, func(i, j int) bool { return byRank[i].rank > byRank[j].rank })
		keep := map[string]bool{}
		for _, s := range byRank[:limit] {
			keep[s.id] = true
		}
		var kept []seg
		for _, s := range rest {
			if keep[s.id] {
				kept = append(kept, s)
			} else {
				g.folded[s.id] = true
				capped = true
			}
		}
		rest = kept
	}
	g.kept = rest
	g.other = len(g.folded) > 0 && (capped || disjoint && smallSum >= testK)
	return g
}

// lld returns the rule's discovery data.
func (g governedSegs) lld() LLD {
	var out LLD
	for _, s := range g.kept {
		out = append(out, s.macros)
	}
	if g.other {
		o := map[string]string{}
		for _, n := range g.names {
			o[n] = "other"
		}
		out = append(out, o)
	}
	return out
}

// per returns a prototype's expected values: f for each kept entity, and the sum of f over the
// folded ones for "other".
func (g governedSegs) per(f func(id string) float64) PerEntity {
	out := PerEntity{}
	for _, s := range g.kept {
		out[s.id] = f(s.id)
	}
	if g.other {
		var sum float64
		for id := range g.folded {
			sum += f(id)
		}
		out["other"] = sum
	}
	return out
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
