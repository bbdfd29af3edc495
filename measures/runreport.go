package measures

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RunReport computes the measures of family f that describe a run (queries marked RunReport)
// from rec, the record of the run that has just been delivered, and stamps them with clock.
// They read no database. Measures disabled for the site are left out.
func (r *Runner) RunReport(ctx context.Context, site *Site, f Family, rec *RunRecord, clock time.Time) ([]Value, error) {
	p := Params{Window: WindowFor(f, clock, site.Location), Now: clock, Previous: rec}
	var ms []*Measure
	for _, m := range r.Registry.Family(f) {
		if m.Query.RunReport && !site.Disabled[m.Key] {
			ms = append(ms, m)
		}
	}
	var out []Value
	var errs []error
	for _, g := range groupByQuery(ms) {
		q := g[0].Query
		if q.Compute == nil {
			errs = append(errs, fmt.Errorf("query %s: a run report must be computed in Go", q.Name))
			continue
		}
		rows, err := q.Compute(ctx, nil, p)
		if err == nil {
			var vals []Value
			vals, err = scalarValues(g, rows, clock)
			out = append(out, vals...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("query %s: %w", q.Name, err))
		}
	}
	return out, errors.Join(errs...)
}

// DependsOnWindow reports whether the query's result depends on the period it is run for: its
// arguments change with the window. A query without arguments, or computed in Go, is taken to
// describe the site as it is now.
func (q *Query) DependsOnWindow() bool {
	if q.Compute != nil || q.Args == nil {
		return false
	}
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	p1 := Params{Window: Window{From: base, To: base.AddDate(0, 1, 0)}, Now: base.AddDate(0, 1, 0), Roles: DefaultRoles()}
	p2 := p1
	p2.Window = Window{From: base.AddDate(0, 2, 0), To: base.AddDate(0, 3, 0)}
	return fmt.Sprint(q.Args(p1)) != fmt.Sprint(q.Args(p2))
}
