package measures

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Registry holds a validated catalogue of measures and discovery rules.
type Registry struct {
	mu          sync.RWMutex
	measures    []*Measure
	byKey       map[string]*Measure
	discoveries []*Discovery
	discByKey   map[string]*Discovery
	queryFamily map[*Query]Family
	queryNames  map[string]*Query
	queryDisc   map[*Query]*Discovery
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byKey:       map[string]*Measure{},
		discByKey:   map[string]*Discovery{},
		queryFamily: map[*Query]Family{},
		queryNames:  map[string]*Query{},
		queryDisc:   map[*Query]*Discovery{},
	}
}

// Default is the registry that the core catalogue, the discovery rules and contrib packs
// register into from their init functions.
var Default = NewRegistry()

// MustRegister adds measures to the Default registry and panics on an invalid definition: a bad
// measure is a programming error found by any test that loads the catalogue.
func MustRegister(ms ...Measure) {
	Default.MustRegister(ms...)
}

// MustRegister adds measures and panics on an invalid definition.
func (r *Registry) MustRegister(ms ...Measure) {
	if err := r.Register(ms...); err != nil {
		panic(err)
	}
}

// Register validates and adds measures; nothing is added when one is invalid. A measure's
// discovery rule is registered with it the first time it is seen.
func (r *Registry) Register(ms ...Measure) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	pendingKeys := map[string]bool{}
	pendingQueries := map[*Query]Family{}
	pendingNames := map[string]*Query{}
	var pendingDisc []*Discovery
	pendingQDisc := map[*Query]*Discovery{}
	for i := range ms {
		m := &ms[i]
		if err := r.validate(m); err != nil {
			errs = append(errs, err)
			continue
		}
		if r.byKey[m.Key] != nil || pendingKeys[m.Key] {
			errs = append(errs, fmt.Errorf("measure %s: duplicate key", m.Key))
			continue
		}
		pendingKeys[m.Key] = true
		if d, ok := r.queryDisc[m.Query]; ok && d != m.Discovery {
			errs = append(errs, fmt.Errorf("measure %s: query %s is shared by measures of different discovery rules", m.Key, m.Query.Name))
			continue
		}
		if d, ok := pendingQDisc[m.Query]; ok && d != m.Discovery {
			errs = append(errs, fmt.Errorf("measure %s: query %s is shared by measures of different discovery rules", m.Key, m.Query.Name))
			continue
		}
		pendingQDisc[m.Query] = m.Discovery
		if err := r.checkQuery(m.Query, m.Family, "measure "+m.Key, pendingQueries, pendingNames); err != nil {
			errs = append(errs, err)
		}
		if d := m.Discovery; d != nil && r.discByKey[d.Key] != d && !containsDisc(pendingDisc, d) {
			if err := r.validateDiscovery(d); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := r.checkQuery(d.Query, d.Family, "discovery "+d.Key, pendingQueries, pendingNames); err != nil {
				errs = append(errs, err)
			}
			pendingDisc = append(pendingDisc, d)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for q, d := range pendingQDisc {
		r.queryDisc[q] = d
	}
	for q, f := range pendingQueries {
		r.queryFamily[q] = f
	}
	for n, q := range pendingNames {
		r.queryNames[n] = q
	}
	for _, d := range pendingDisc {
		r.discoveries = append(r.discoveries, d)
		r.discByKey[d.Key] = d
	}
	for i := range ms {
		m := ms[i]
		r.measures = append(r.measures, &m)
		r.byKey[m.Key] = &m
	}
	return nil
}

func containsDisc(ds []*Discovery, d *Discovery) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// checkQuery enforces that a query object is shared within one family only and that query
// names are unique.
func (r *Registry) checkQuery(q *Query, f Family, subject string, pending map[*Query]Family, names map[string]*Query) error {
	if q == nil {
		return nil
	}
	if q.Name == "" {
		return fmt.Errorf("%s: query has no name", subject)
	}
	if q.SQL == "" && q.Compute == nil && len(q.Dialects) == 0 {
		return fmt.Errorf("%s: query %s has neither SQL nor Compute", subject, q.Name)
	}
	for _, known := range []map[*Query]Family{r.queryFamily, pending} {
		if kf, ok := known[q]; ok && kf != f {
			return fmt.Errorf("%s: query %s is shared across families %s and %s", subject, q.Name, kf, f)
		}
	}
	for _, known := range []map[string]*Query{r.queryNames, names} {
		if other, ok := known[q.Name]; ok && other != q {
			return fmt.Errorf("%s: query name %s is used by two different queries", subject, q.Name)
		}
	}
	pending[q] = f
	names[q.Name] = q
	return nil
}

func (r *Registry) validate(m *Measure) error {
	subject := "measure " + m.Key
	if m.Key == "" {
		subject = fmt.Sprintf("measure %q", m.Name)
		return fmt.Errorf("%s: empty key", subject)
	}
	if err := ValidateKey(m.Key); err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	if !strings.HasPrefix(m.Key, "moodle.") {
		return fmt.Errorf("%s: key must start with \"moodle.\"", subject)
	}
	if strings.TrimSpace(m.Name) == "" {
		return fmt.Errorf("%s: empty name", subject)
	}
	if err := checkSentence(m.Description); err != nil {
		return fmt.Errorf("%s: description %w", subject, err)
	}
	if !m.Family.Valid() {
		return fmt.Errorf("%s: invalid family %d", subject, m.Family)
	}
	switch m.Type {
	case Unsigned, Float, Char, Text:
	default:
		return fmt.Errorf("%s: invalid value type %d", subject, m.Type)
	}
	if m.Query == nil {
		return fmt.Errorf("%s: no query", subject)
	}
	if m.Column == "" {
		return fmt.Errorf("%s: no column", subject)
	}
	if m.Column != strings.ToLower(m.Column) {
		return fmt.Errorf("%s: column %q must be lower case", subject, m.Column)
	}
	if !m.Type.Numeric() && m.Aggregate != NoAggregate {
		return fmt.Errorf("%s: a %s value cannot be aggregated with %s", subject, m.Type, m.Aggregate)
	}
	if !m.Type.Numeric() && (m.Units != "" || m.Graph != "") {
		return fmt.Errorf("%s: a %s value has no units or graph", subject, m.Type)
	}
	if m.GraphColor != "" && (m.Graph == "" || !isHexColour(m.GraphColor)) {
		return fmt.Errorf("%s: graph colour %q must be six hexadecimal digits (RRGGBB), on a measure with a graph", subject, m.GraphColor)
	}
	for _, t := range m.Triggers {
		if t.Name == "" || !strings.Contains(t.Expression, "{item}") {
			return fmt.Errorf("%s: trigger %q must have a name and an expression using {item}", subject, t.Name)
		}
		for _, mac := range t.Macros {
			if !strings.HasPrefix(mac.Name, "{$") || !strings.HasSuffix(mac.Name, "}") {
				return fmt.Errorf("%s: trigger %q: bad user macro name %q", subject, t.Name, mac.Name)
			}
		}
	}
	_, params, _ := ParseKey(m.Key)
	keyHasMacro := strings.Contains(m.Key, "{#")
	if d := m.Discovery; d != nil {
		if len(d.Macros) == 0 {
			return fmt.Errorf("%s: discovery %s has no macros", subject, d.Key)
		}
		if !strings.Contains(m.Key, d.IDMacro().Macro) {
			return fmt.Errorf("%s: prototype key must use its rule's macro %s", subject, d.IDMacro().Macro)
		}
		for _, p := range params {
			for _, mac := range extractLLDMacros(p) {
				if !d.hasMacro(mac) {
					return fmt.Errorf("%s: macro %s is not provided by discovery %s", subject, mac, d.Key)
				}
			}
		}
		if len(extractLLDMacros(m.Key)) > 0 && len(params) == 0 {
			return fmt.Errorf("%s: LLD macros belong in the key's parameters", subject)
		}
	} else if keyHasMacro {
		return fmt.Errorf("%s: key uses an LLD macro but the measure has no discovery rule", subject)
	}
	return nil
}

func (d *Discovery) hasMacro(name string) bool {
	for _, m := range d.Macros {
		if m.Macro == name {
			return true
		}
	}
	return false
}

func extractLLDMacros(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "{#")
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, s[i:i+j+1])
		s = s[i+j+1:]
	}
}

func (r *Registry) validateDiscovery(d *Discovery) error {
	subject := "discovery " + d.Key
	if err := ValidateKey(d.Key); err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	if r.discByKey[d.Key] != nil {
		return fmt.Errorf("%s: duplicate key", subject)
	}
	if r.byKey[d.Key] != nil {
		return fmt.Errorf("%s: key already used by a measure", subject)
	}
	if strings.TrimSpace(d.Name) == "" {
		return fmt.Errorf("%s: empty name", subject)
	}
	if err := checkSentence(d.Description); err != nil {
		return fmt.Errorf("%s: description %w", subject, err)
	}
	if !d.Family.Valid() {
		return fmt.Errorf("%s: invalid family", subject)
	}
	if d.Query == nil {
		return fmt.Errorf("%s: no query", subject)
	}
	if len(d.Macros) == 0 {
		return fmt.Errorf("%s: no macros", subject)
	}
	for _, m := range d.Macros {
		if !validLLDMacro(m.Macro) {
			return fmt.Errorf("%s: bad LLD macro %q (want {#UPPER_CASE})", subject, m.Macro)
		}
		if m.Column == "" || m.Column != strings.ToLower(m.Column) {
			return fmt.Errorf("%s: macro %s needs a lower-case column", subject, m.Macro)
		}
	}
	return nil
}

func validLLDMacro(s string) bool {
	if !strings.HasPrefix(s, "{#") || !strings.HasSuffix(s, "}") || len(s) < 4 {
		return false
	}
	for _, c := range s[2 : len(s)-1] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkSentence requires a description that starts with a capital letter or digit and ends with
// a full stop.
func checkSentence(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("is empty")
	}
	first := []rune(s)[0]
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) {
		return fmt.Errorf("%q must start with a capital letter", s)
	}
	if !strings.HasSuffix(s, ".") {
		return fmt.Errorf("%q must end with a full stop", s)
	}
	return nil
}

// Measures returns every measure ordered by family, then key.
func (r *Registry) Measures() []*Measure {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := append([]*Measure(nil), r.measures...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Family != out[j].Family {
			return out[i].Family < out[j].Family
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// Family returns the measures of one family in registration order, which is the order their
// queries run.
func (r *Registry) Family(f Family) []*Measure {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Measure
	for _, m := range r.measures {
		if m.Family == f {
			out = append(out, m)
		}
	}
	return out
}

// Discoveries returns every discovery rule ordered by key.
func (r *Registry) Discoveries() []*Discovery {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := append([]*Discovery(nil), r.discoveries...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Lookup returns the measure with the given key, or nil.
func (r *Registry) Lookup(key string) *Measure {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byKey[key]
}

// Templates returns the names of every host template that carries a measure or a rule, sorted
// with the default template first.
func (r *Registry) Templates() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := map[string]bool{}
	for _, m := range r.measures {
		seen[m.TemplateName()] = true
	}
	for _, d := range r.discoveries {
		seen[d.TemplateName()] = true
	}
	var out []string
	for n := range seen {
		if n != DefaultTemplate {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	if seen[DefaultTemplate] {
		out = append([]string{DefaultTemplate}, out...)
	}
	return out
}

// isHexColour reports whether s is a colour written RRGGBB in hexadecimal.
func isHexColour(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
