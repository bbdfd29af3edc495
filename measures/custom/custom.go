// Package custom loads measures declared in YAML files rather than written in Go, so that a
// site or a whole deployment can monitor its own tables without building the program.
//
// A file declares measures (and optionally discovery rules for grouped measures) with the
// fields of measures.Measure, each with one SQL statement in Moodle style ({table} names, ?
// for the window's bounds). Every definition goes through the registry's own validation, so
// it is checked exactly like a built-in measure, and every problem is reported as file:line.
// Definitions that could let per-person data leave the site are refused: a result column named
// after a person's column or an id, a person's column read outside COUNT(...), SELECT *, or a
// measure without a discovery rule whose query returns more than one row (checked at run time).
// Entities of a custom discovery rule backed by fewer persons than the site's k-threshold are
// left out.
//
// The measures of a file go to the host template the file names ("Moodle custom" by default),
// which no built-in measure uses.
package custom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"gopkg.in/yaml.v3"
)

// DefaultTemplate is the host template of custom measures when their file names none.
const DefaultTemplate = "Moodle custom"

// Error is one problem in a custom measure file.
type Error struct {
	// File is the file's name as given; Line the 1-based line at fault (0 when unknown).
	File string
	Line int
	// Key is the measure or discovery key at fault, when known.
	Key string
	Msg string
}

// Error formats the problem as file:line: key: message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// File is one parsed custom measure file.
type File struct {
	// Name is the file's path as given.
	Name string
	// Template is the host template its measures go to.
	Template string
	// Component, when set, is the Moodle plugin its queries need: on a site without it, the
	// measures are skipped.
	Component   string
	Measures    []MeasureSpec
	Discoveries []DiscoverySpec

	templateLine int
}

// MeasureSpec is one measure as written in a file.
type MeasureSpec struct {
	Key         string `yaml:"key"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Family is instant, hourly, daily, weekly or monthly.
	Family string `yaml:"family"`
	// Type is unsigned (the default), float, char or text.
	Type  string `yaml:"type"`
	Units string `yaml:"units"`
	// Aggregate is how the fleet template combines sites: sum, avg, max, min or none (the
	// default).
	Aggregate string `yaml:"aggregate"`
	// SQL is one SELECT in Moodle style; Args names what each ? receives (from, to).
	SQL  string   `yaml:"sql"`
	Args []string `yaml:"args"`
	// Column is the result column read (default "value").
	Column string `yaml:"column"`
	// Discovery makes the measure an item prototype of the rule with that key, declared in
	// the same file; its query then returns one row per entity.
	Discovery string `yaml:"discovery"`
	// Graph and Dashboard draw the item, as for built-in measures.
	Graph     string `yaml:"graph"`
	Dashboard bool   `yaml:"dashboard"`
	// Cost says what bounds the query on a big site, for the docs.
	Cost string `yaml:"cost"`

	line  int
	lines map[string]int
}

// DiscoverySpec is one low-level discovery rule as written in a file.
type DiscoverySpec struct {
	Key         string   `yaml:"key"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Family      string   `yaml:"family"`
	SQL         string   `yaml:"sql"`
	Args        []string `yaml:"args"`
	// Macros bind LLD macros to result columns; the first identifies the entity.
	Macros []MacroSpec `yaml:"macros"`
	// People is the result column counting the distinct persons behind each entity; entities
	// below the site's k-threshold are not discovered.
	People   string `yaml:"people"`
	Lifetime string `yaml:"lifetime"`

	line  int
	lines map[string]int
}

// MacroSpec binds one LLD macro to a result column.
type MacroSpec struct {
	Macro  string `yaml:"macro"`
	Column string `yaml:"column"`
}

// fileSpec is the document's shape.
type fileSpec struct {
	Template    string          `yaml:"template"`
	Component   string          `yaml:"component"`
	Discoveries []DiscoverySpec `yaml:"discoveries"`
	Measures    []MeasureSpec   `yaml:"measures"`
}

// windowArgs are the values a custom query's ? can receive.
var windowArgs = map[string]func(measures.Params) any{
	"from": func(p measures.Params) any { return p.From() },
	"to":   func(p measures.Params) any { return p.To() },
}

var componentRE = regexp.MustCompile(`^[a-z][a-z0-9]*_[a-z0-9_]+$`)

// Files expands paths into the custom measure files to read: a file as is, a directory as its
// *.yaml and *.yml files in name order. A path listed twice is read once.
func Files(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("custom measures: %w", err)
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("custom measures: %w", err)
		}
		var names []string
		for _, e := range ents {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			add(filepath.Join(p, n))
		}
	}
	return out, nil
}

// Load reads and parses the custom measure files under paths (see Files).
func Load(paths []string) ([]*File, error) {
	names, err := Files(paths)
	if err != nil {
		return nil, err
	}
	var files []*File
	var errs []error
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("custom measures: %w", err))
			continue
		}
		f, err := Parse(n, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return files, nil
}

var (
	typeErrLine  = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type custom\.(\w+)$`)
	// specNames names the parts of a file in messages about unknown fields.
	specNames = map[string]struct{ noun, fields string }{
		"fileSpec":      {"the file", "template, component, discoveries, measures"},
		"MeasureSpec":   {"a measure", "key, name, description, family, type, units, aggregate, sql, args, column, discovery, graph, dashboard, cost"},
		"DiscoverySpec": {"a discovery rule", "key, name, description, family, sql, args, macros, people, lifetime"},
		"MacroSpec":     {"a macro", "macro, column"},
	}
)

// Parse decodes one file and checks what can be checked without the registry: the fields'
// values, the window arguments and the static privacy rules of every query. All problems are
// returned together.
func Parse(name string, data []byte) (f *File, err error) {
	defer func() {
		// yaml.v3 panics on a few malformed documents: no input may crash the program.
		if v := recover(); v != nil {
			f, err = nil, &Error{File: name, Msg: fmt.Sprintf("invalid YAML: %v", v)}
		}
	}()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: 1, Msg: "a custom measure file is a mapping with measures (and optionally template, component, discoveries)"}
	}
	var spec fileSpec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, &Error{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		var errs []error
		for _, msg := range te.Errors {
			e := &Error{File: name, Msg: msg}
			if m := typeErrLine.FindStringSubmatch(msg); m != nil {
				e.Line, _ = strconv.Atoi(m[1])
				e.Msg = m[2]
			}
			if m := unknownField.FindStringSubmatch(e.Msg); m != nil {
				e.Msg = fmt.Sprintf("unknown field %q in %s (it has %s)", m[1], specNames[m[2]].noun, specNames[m[2]].fields)
			}
			errs = append(errs, e)
		}
		return nil, errors.Join(errs...)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		return nil, &Error{File: name, Line: next.Line, Msg: "more than one YAML document"}
	}
	top := root.Content[0]
	f = &File{Name: name, Template: spec.Template, Component: spec.Component, Measures: spec.Measures, Discoveries: spec.Discoveries}
	for i := range f.Measures {
		f.Measures[i].line, f.Measures[i].lines = itemLines(top, "measures", i)
	}
	for i := range f.Discoveries {
		f.Discoveries[i].line, f.Discoveries[i].lines = itemLines(top, "discoveries", i)
	}
	if f.Template == "" {
		f.Template = DefaultTemplate
	} else {
		f.templateLine = keyLine(top, "template")
	}
	p := &problems{file: name}
	if strings.TrimSpace(f.Template) != f.Template {
		p.add(keyLine(top, "template"), "", "template %q has leading or trailing spaces", f.Template)
	}
	if f.Component != "" && !componentRE.MatchString(f.Component) {
		p.add(keyLine(top, "component"), "", "component %q is not a plugin's frankenstyle name such as local_booking", f.Component)
	}
	if len(f.Measures) == 0 {
		p.add(keyLine(top, "measures"), "", "no measures")
	}
	rules := map[string]*DiscoverySpec{}
	for i := range f.Discoveries {
		d := &f.Discoveries[i]
		rules[d.Key] = d
		p.checkDiscovery(d)
	}
	for i := range f.Measures {
		p.checkMeasure(&f.Measures[i], rules)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// itemLines returns the line of list[i] under key in the mapping top, and the lines of its
// fields.
func itemLines(top *yaml.Node, key string, i int) (int, map[string]int) {
	lines := map[string]int{}
	list := valueOf(top, key)
	if list == nil || list.Kind != yaml.SequenceNode || i >= len(list.Content) {
		return 0, lines
	}
	item := list.Content[i]
	if item.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(item.Content); j += 2 {
			lines[item.Content[j].Value] = item.Content[j].Line
		}
	}
	return item.Line, lines
}

func valueOf(m *yaml.Node, key string) *yaml.Node {
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == key {
			return m.Content[j+1]
		}
	}
	return nil
}

func keyLine(m *yaml.Node, key string) int {
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == key {
			return m.Content[j].Line
		}
	}
	return m.Line
}

// problems collects a file's errors.
type problems struct {
	file string
	errs []*Error
}

func (p *problems) add(line int, key, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// lineOf returns the line of a field, or the item's when the field is absent.
func lineOf(lines map[string]int, item int, field string) int {
	if l, ok := lines[field]; ok {
		return l
	}
	return item
}

// checkQuery checks a query's window arguments and its select list, and returns its result
// column names.
func (p *problems) checkQuery(key, sql string, args []string, item int, lines map[string]int) []string {
	if strings.TrimSpace(sql) == "" {
		p.add(lineOf(lines, item, "sql"), key, "sql is required")
		return nil
	}
	ok := true
	for _, a := range args {
		if windowArgs[a] == nil {
			p.add(lineOf(lines, item, "args"), key, "unknown argument %q: a ? receives from or to (the window's bounds as Unix times)", a)
			ok = false
		}
	}
	if ok {
		dummy := make([]any, len(args))
		if _, _, err := measures.SQLite.Expand(sql, "", dummy); err != nil {
			p.add(lineOf(lines, item, "args"), key, "%v", err)
		}
	}
	names, err := checkSelect(sql)
	if err != nil {
		p.add(lineOf(lines, item, "sql"), key, "sql: %v", err)
		return nil
	}
	return names
}

func (p *problems) checkDiscovery(d *DiscoverySpec) {
	names := p.checkQuery(d.Key, d.SQL, d.Args, d.line, d.lines)
	if _, err := measures.ParseFamily(d.Family); err != nil {
		p.add(lineOf(d.lines, d.line, "family"), d.Key, "%v", err)
	}
	if len(d.Macros) == 0 {
		p.add(lineOf(d.lines, d.line, "macros"), d.Key, "a discovery rule needs at least one macro (the first identifies the entity)")
	}
	for _, m := range d.Macros {
		if isIdentifyingName(m.Column) {
			p.add(lineOf(d.lines, d.line, "macros"), d.Key, "macro %s reads column %q, a person's data or a row id", m.Macro, m.Column)
		} else if names != nil && !contains(names, strings.ToLower(m.Column)) {
			p.add(lineOf(d.lines, d.line, "macros"), d.Key, "macro %s reads column %q, which the query does not return (it returns %s)", m.Macro, m.Column, strings.Join(names, ", "))
		}
	}
	switch {
	case d.People == "":
		p.add(lineOf(d.lines, d.line, "people"), d.Key, "people is required: the result column counting the distinct persons behind each entity, for the k-threshold")
	case names != nil && !contains(names, strings.ToLower(d.People)):
		p.add(lineOf(d.lines, d.line, "people"), d.Key, "people column %q is not returned by the query (it returns %s)", d.People, strings.Join(names, ", "))
	}
}

func (p *problems) checkMeasure(m *MeasureSpec, rules map[string]*DiscoverySpec) {
	names := p.checkQuery(m.Key, m.SQL, m.Args, m.line, m.lines)
	col := m.column()
	if names != nil && !contains(names, col) {
		p.add(lineOf(m.lines, m.line, "column"), m.Key, "column %q is not returned by the query (it returns %s)", col, strings.Join(names, ", "))
	}
	if _, err := measures.ParseFamily(m.Family); err != nil {
		p.add(lineOf(m.lines, m.line, "family"), m.Key, "%v", err)
	}
	if _, err := parseType(m.Type); err != nil {
		p.add(lineOf(m.lines, m.line, "type"), m.Key, "%v", err)
	}
	if _, err := parseAggregate(m.Aggregate); err != nil {
		p.add(lineOf(m.lines, m.line, "aggregate"), m.Key, "%v", err)
	}
	if m.Discovery != "" {
		d := rules[m.Discovery]
		switch {
		case d == nil:
			p.add(lineOf(m.lines, m.line, "discovery"), m.Key, "no discovery rule %q in this file", m.Discovery)
		case len(d.Macros) > 0 && names != nil && !contains(names, strings.ToLower(d.Macros[0].Column)):
			p.add(lineOf(m.lines, m.line, "sql"), m.Key, "a prototype's query must return its rule's entity column %q, one row per entity", d.Macros[0].Column)
		}
	}
}

func (m *MeasureSpec) column() string {
	if m.Column == "" {
		return "value"
	}
	return strings.ToLower(m.Column)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseType(s string) (measures.ValueType, error) {
	switch strings.ToLower(s) {
	case "", "unsigned":
		return measures.Unsigned, nil
	case "float":
		return measures.Float, nil
	case "char":
		return measures.Char, nil
	case "text":
		return measures.Text, nil
	}
	return 0, fmt.Errorf("unknown type %q (want unsigned, float, char or text)", s)
}

func parseAggregate(s string) (measures.Aggregate, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return measures.NoAggregate, nil
	case "sum":
		return measures.Sum, nil
	case "avg":
		return measures.Avg, nil
	case "max":
		return measures.Max, nil
	case "min":
		return measures.Min, nil
	}
	return 0, fmt.Errorf("unknown aggregate %q (want sum, avg, max, min or none)", s)
}
