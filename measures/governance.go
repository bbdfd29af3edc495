package measures

import (
	"fmt"
	"sort"
	"strings"
)

// Cardinality and privacy governance of discovery rules.
//
// Every rule's query returns one row per entity (category, authentication plugin, course,
// cohort, component). Before the rule's LLD data and its prototypes' values are sent:
//
//  1. an entity whose population (the people its values are about) is below the site's
//     k-threshold is folded: it reports nothing of its own;
//  2. of the rest, only the rule's cap of entities are kept, the most active first (the rule's
//     Rank column); the others are folded too;
//  3. folded entities' values go into one more entity, OtherID, whose prototype values combine
//     theirs with each measure's Aggregate. It is sent only when its own population is
//     provably at least k: it holds a capped entity (every capped one has k people or more),
//     or, for a rule whose entities share nobody, their populations add up to k or more.
//     Otherwise the folded values are withheld.

// OtherID is the identifier of the entity that stands for every folded entity of a rule.
const OtherID = "other"

// DefaultKThreshold is the smallest population an entity must have to be reported on its own,
// when the site sets none.
const DefaultKThreshold = 5

// DefaultCap is the most entities a rule discovers when neither the rule nor the site sets a
// cap.
const DefaultCap = 50

// Folded is an entity left out of a rule's discovery, with why.
type Folded struct {
	// ID is the entity's identifier (its ID macro's value); Label its other macros' values.
	ID, Label string
	// Population is the entity's population as the rule's query counted it.
	Population float64
}

// RuleGovernance reports what governance did to one discovery rule in a burst. It stays on the
// site: the audit command prints it, nothing of it is sent.
type RuleGovernance struct {
	Rule string
	// Found is the number of entities the query returned; Prototypes the rule's item prototypes
	// in this registry, so Found*Prototypes items would exist without a cap.
	Found, Prototypes int
	// Cap and K are the limits applied.
	Cap, K int
	// Kept are the identifiers of the entities reported on their own.
	Kept []string
	// Suppressed are the entities below K; Capped those beyond the cap.
	Suppressed, Capped []Folded
	// Other says whether the OtherID entity was sent; Withheld, that folded values were dropped
	// because the other entity's population could not be shown to reach K.
	Other, Withheld bool
}

// Items returns how many items the rule would create without its cap.
func (g RuleGovernance) Items() int { return g.Found * g.Prototypes }

// capFor returns the cap of rule d on site s.
func capFor(s *Site, d *Discovery) int {
	if n, ok := s.Caps[d.Key]; ok && n > 0 {
		return n
	}
	if d.Cap > 0 {
		return d.Cap
	}
	return DefaultCap
}

// kFor returns the site's k-threshold.
func kFor(s *Site) int {
	if s.KThreshold > 0 {
		return s.KThreshold
	}
	return DefaultKThreshold
}

// govern applies the k-threshold and the cap to a rule's rows. It returns the rows to discover
// (kept entities in query order, then the other entity when it is sent), the identifiers of the
// entities whose values go into the other entity, and the report.
func govern(d *Discovery, rows []Row, limit, k, prototypes int) ([]Row, map[string]bool, RuleGovernance, error) {
	g := RuleGovernance{Rule: d.Key, Found: len(rows), Prototypes: prototypes, Cap: limit, K: k}
	idCol := d.IDMacro().Column
	type entity struct {
		row       Row
		pos       int
		rank, pop float64
	}
	var candidates []entity
	folded := map[string]bool{}
	fold := func(e entity, into *[]Folded) {
		*into = append(*into, Folded{ID: macroText(e.row[idCol]), Label: label(d, e.row), Population: e.pop})
		folded[macroText(e.row[idCol])] = true
	}
	for i, row := range rows {
		e := entity{row: row, pos: i}
		var err error
		if d.Population != "" {
			if e.pop, err = columnFloat(row, d.Population); err != nil {
				return nil, nil, g, fmt.Errorf("discovery %s: population: %w", d.Key, err)
			}
		}
		rankCol := d.Rank
		if rankCol == "" {
			rankCol = d.Population
		}
		if rankCol != "" {
			if e.rank, err = columnFloat(row, rankCol); err != nil {
				return nil, nil, g, fmt.Errorf("discovery %s: rank: %w", d.Key, err)
			}
		}
		if d.Population != "" && k > 1 && e.pop < float64(k) {
			fold(e, &g.Suppressed)
			continue
		}
		candidates = append(candidates, e)
	}
	if len(candidates) > limit {
		sort.SliceStable(candidates, func(i, j int) bool { return candidates[i].rank > candidates[j].rank })
		for _, e := range candidates[limit:] {
			fold(e, &g.Capped)
		}
		candidates = candidates[:limit]
		sort.Slice(candidates, func(i, j int) bool { return candidates[i].pos < candidates[j].pos })
	}
	out := make([]Row, 0, len(candidates)+1)
	for _, e := range candidates {
		out = append(out, e.row)
		g.Kept = append(g.Kept, macroText(e.row[idCol]))
	}
	if len(folded) == 0 {
		return out, folded, g, nil
	}
	sum := 0.0
	for _, f := range g.Suppressed {
		sum += f.Population
	}
	if len(g.Capped) > 0 || k <= 1 || d.Disjoint && sum >= float64(k) {
		other := Row{}
		for _, m := range d.Macros {
			other[m.Column] = OtherID
		}
		out = append(out, other)
		g.Other = true
	} else {
		g.Withheld = true
	}
	return out, folded, g, nil
}

// label joins the values of an entity's macros other than its identifier, for reports.
func label(d *Discovery, row Row) string {
	var parts []string
	for _, m := range d.Macros[1:] {
		parts = append(parts, macroText(row[m.Column]))
	}
	return strings.Join(parts, ", ")
}

func columnFloat(row Row, col string) (float64, error) {
	v, ok := row[col]
	if !ok {
		return 0, fmt.Errorf("column %q is not in the result", col)
	}
	return toFloat(v)
}

// otherValue combines the folded entities' rows into the other entity's value of m, with the
// measure's Aggregate (a sum when it has none).
func otherValue(m *Measure, idCol string, rows []Row, folded map[string]bool) (float64, error) {
	var acc float64
	n := 0
	for _, row := range rows {
		if !folded[macroText(row[idCol])] {
			continue
		}
		f, err := columnFloat(row, m.Column)
		if err != nil {
			return 0, err
		}
		switch {
		case n == 0:
			acc = f
		case m.Aggregate == Max:
			acc = max(acc, f)
		case m.Aggregate == Min:
			acc = min(acc, f)
		default:
			acc += f
		}
		n++
	}
	if m.Aggregate == Avg && n > 0 {
		acc /= float64(n)
	}
	return acc, nil
}
