package custom

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// fleetTemplate is the fleet template's name, which custom measures may not use either.
const fleetTemplate = "Moodle fleet"

// Register adds the measures of files to reg, which already holds the built-in catalogue, and
// validates each one exactly as the registry validates built-in measures: key grammar,
// duplicates against everything registered, a description that is a sentence, and the rest.
// Every problem is reported with its file and line; nothing is usable when one is found, so
// the caller should discard reg on error.
func Register(reg *measures.Registry, files []*File) error {
	builtin := map[string]bool{fleetTemplate: true}
	for _, t := range reg.Templates() {
		builtin[t] = true
	}
	var errs []error
	for _, f := range files {
		p := &problems{file: f.Name}
		if builtin[f.Template] {
			p.add(f.templateLine, "", "template %q is a built-in template: custom measures go to a template of their own (default %q)", f.Template, DefaultTemplate)
		} else {
			registerFile(reg, f, p)
		}
		if err := p.err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func registerFile(reg *measures.Registry, f *File, p *problems) {
	rules := map[string]*measures.Discovery{}
	used := map[string]bool{}
	for i := range f.Discoveries {
		d := &f.Discoveries[i]
		fam, _ := measures.ParseFamily(d.Family)
		rule := &measures.Discovery{
			Key: d.Key, Name: d.Name, Description: d.Description, Family: fam, Lifetime: d.Lifetime,
			Template: f.Template, Population: strings.ToLower(d.People),
			Query: &measures.Query{
				Name: queryName(f.Name, d.line), SQL: d.SQL, Args: argsFunc(d.Args),
				Compute:   discoveryCompute(d, f.Name),
				Component: f.Component,
				Cost:      "A custom discovery query declared in " + f.Name + ".",
			},
		}
		for _, m := range d.Macros {
			rule.Macros = append(rule.Macros, measures.LLDMacro{Macro: m.Macro, Column: strings.ToLower(m.Column)})
		}
		rules[d.Key] = rule
	}
	queries := map[string]*measures.Query{}
	for i := range f.Measures {
		s := &f.Measures[i]
		fam, _ := measures.ParseFamily(s.Family)
		typ, _ := parseType(s.Type)
		agg, _ := parseAggregate(s.Aggregate)
		share := strings.Join(append([]string{s.Family, s.Discovery, s.SQL}, s.Args...), "\x00")
		q := queries[share]
		if q == nil {
			cost := s.Cost
			if cost == "" {
				cost = "A custom query declared in " + f.Name + "."
			}
			q = &measures.Query{
				Name: queryName(f.Name, s.line), SQL: s.SQL, Args: argsFunc(s.Args),
				Compute:   measureCompute(s, f.Name, s.Discovery != ""),
				Component: f.Component, Cost: cost,
			}
			queries[share] = q
		}
		m := measures.Measure{
			Key: s.Key, Name: s.Name, Description: s.Description, Family: fam, Type: typ, Units: s.Units,
			Query: q, Column: s.column(), Aggregate: agg, Template: f.Template, Domain: "custom",
			Graph: s.Graph, Dashboard: s.Dashboard,
		}
		if s.Discovery != "" {
			m.Discovery = rules[s.Discovery]
			used[s.Discovery] = true
		}
		if err := reg.Register(m); err != nil {
			for _, e := range splitJoined(err) {
				p.errs = append(p.errs, registryError(f.Name, s, f.Discoveries, e))
			}
		}
	}
	for i := range f.Discoveries {
		if d := &f.Discoveries[i]; !used[d.Key] {
			p.add(d.line, d.Key, "no measure uses this discovery rule")
		}
	}
}

func queryName(file string, line int) string { return "custom " + file + ":" + strconv.Itoa(line) }

// splitJoined undoes errors.Join.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// registryError places a registry validation error at the line of the field it is about.
func registryError(file string, s *MeasureSpec, rules []DiscoverySpec, err error) *Error {
	msg := err.Error()
	key, lines, line := s.Key, s.lines, s.line
	if rest, ok := strings.CutPrefix(msg, "measure "+s.Key+": "); ok {
		msg = rest
	}
	for i := range rules {
		d := &rules[i]
		if rest, ok := strings.CutPrefix(msg, "discovery "+d.Key+": "); ok && d.Key != "" {
			msg, key, lines, line = rest, d.Key, d.lines, d.line
		}
	}
	field := ""
	switch {
	case strings.HasPrefix(msg, "description "):
		field = "description"
	case strings.HasPrefix(msg, "empty name"):
		field = "name"
	case strings.HasPrefix(msg, "column ") || strings.HasPrefix(msg, "no column"):
		field = "column"
	case strings.Contains(msg, "LLD macro") || strings.HasPrefix(msg, "macro ") || strings.HasPrefix(msg, "bad LLD"):
		field = "macros"
		if key == s.Key {
			field = "key"
		}
	case strings.Contains(msg, "value cannot be aggregated"):
		field = "aggregate"
	case strings.Contains(msg, "has no units or graph"):
		field = "units"
	case strings.Contains(msg, "key") || strings.Contains(msg, "prototype"):
		field = "key"
	}
	return &Error{File: file, Line: lineOf(lines, line, field), Key: key, Msg: msg}
}

// argsFunc maps argument names to the run's values.
func argsFunc(names []string) func(measures.Params) []any {
	if len(names) == 0 {
		return nil
	}
	return func(p measures.Params) []any {
		out := make([]any, len(names))
		for i, n := range names {
			out[i] = windowArgs[n](p)
		}
		return out
	}
}

// checkResult is the run-time privacy check of a custom query's result columns, for what the
// static check could not see.
func checkResult(rows []measures.Row) error {
	if len(rows) == 0 {
		return nil
	}
	for col := range rows[0] {
		if isIdentifyingName(col) {
			return fmt.Errorf("result column %q names a person's data or a row id: refused", col)
		}
	}
	return nil
}

// queryChecked runs a custom query with its arguments for the run and refuses a result with
// columns that could identify a person (checkResult), naming where the query is written.
func queryChecked(ctx context.Context, q measures.Querier, p measures.Params, sql string, args func(measures.Params) []any, where string) ([]measures.Row, error) {
	var a []any
	if args != nil {
		a = args(p)
	}
	rows, err := q.Query(ctx, sql, a...)
	if err != nil {
		return nil, err
	}
	if err := checkResult(rows); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return rows, nil
}

// measureCompute runs a custom measure's query on the burst's read-only session (so within the
// site's timeouts) and refuses a result that could describe single persons.
func measureCompute(s *MeasureSpec, file string, grouped bool) func(context.Context, measures.Querier, measures.Params) ([]measures.Row, error) {
	sql, args := s.SQL, argsFunc(s.Args)
	where := file + ":" + strconv.Itoa(s.line)
	return func(ctx context.Context, q measures.Querier, p measures.Params) ([]measures.Row, error) {
		rows, err := queryChecked(ctx, q, p, sql, args, where)
		if err != nil {
			return nil, err
		}
		if !grouped && len(rows) > 1 {
			return nil, fmt.Errorf("%s: the query returned %d rows: without a discovery rule a custom measure must return one row, or its values could describe single persons", where, len(rows))
		}
		return rows, nil
	}
}

// discoveryCompute runs a custom discovery query and leaves out the entities behind fewer than
// k persons.
func discoveryCompute(d *DiscoverySpec, file string) func(context.Context, measures.Querier, measures.Params) ([]measures.Row, error) {
	sql, args, people := d.SQL, argsFunc(d.Args), strings.ToLower(d.People)
	where := file + ":" + strconv.Itoa(d.line)
	return func(ctx context.Context, q measures.Querier, p measures.Params) ([]measures.Row, error) {
		rows, err := queryChecked(ctx, q, p, sql, args, where)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			v, ok := r[people]
			if !ok {
				return nil, fmt.Errorf("%s: people column %q is not in the result", where, people)
			}
			if _, err := strconv.ParseFloat(fmt.Sprint(v), 64); v != nil && err != nil {
				return nil, fmt.Errorf("%s: people column %q holds %q, not a number", where, people, fmt.Sprint(v))
			}
		}
		return rows, nil
	}
}
