package app

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// maxListedKeys bounds the keys named in one problem line.
const maxListedKeys = 5

// Problems returns one line per problem of a run, for standard error or the daemon's log: the
// same error is reported once, however many measures it failed (a database that refuses the
// login is one line, not one per query).
func (o Outcome) Problems() []string {
	var out []string
	b := o.Burst
	if b == nil {
		b = &measures.Burst{}
	}
	// One problem is one line, even when its error joins several (errors.Join puts newlines).
	add := func(format string, args ...any) {
		out = append(out, strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "; "))
	}
	var rest []measures.Failure
	unreachableKeys := 0
	for _, f := range b.Failures {
		if b.Unreachable != nil && errors.Is(f.Err, b.Unreachable) {
			unreachableKeys += len(f.Keys)
			continue
		}
		rest = append(rest, f)
	}
	if b.Unreachable != nil {
		add("database unreachable: %v (%d measures not computed)", b.Unreachable, unreachableKeys)
	}
	// Failures with the same error text are one problem.
	var texts []string
	keysBy := map[string][]string{}
	for _, f := range rest {
		t := f.Err.Error()
		if _, ok := keysBy[t]; !ok {
			texts = append(texts, t)
		}
		keysBy[t] = append(keysBy[t], f.Keys...)
	}
	for _, t := range texts {
		keys := keysBy[t]
		if len(keys) == 1 {
			add("measure %s failed: %s", keys[0], t)
		} else {
			add("%d measures failed (%s): %s", len(keys), listKeys(keys), t)
		}
	}
	d := o.Delivery
	if o.Err != nil {
		if spooled := d.Spooled + o.ReportDelivery.Spooled; spooled > 0 {
			add("Zabbix unreachable: %d values spooled, to be replayed by the next run: %v", spooled, o.Err)
		} else {
			add("not delivered: %v", o.Err)
		}
	}
	// Refused values, the burst's and the self-monitoring ones, are one problem; when the API
	// named a single cause, it ends the same line.
	r := o.ReportDelivery
	diagnosis := o.Diagnosis
	if refused := d.Failed - d.ReplayRefused + r.Failed - r.ReplayRefused; refused > 0 {
		line := fmt.Sprintf("Zabbix refused %d values", refused)
		if keys := append(append([]string(nil), d.FailedKeys...), r.FailedKeys...); len(keys) > 0 {
			line += " (" + listKeys(keys) + ")"
		}
		if len(diagnosis) == 1 {
			line += ": " + diagnosis[0]
			diagnosis = nil
		}
		add("%s", line)
	}
	d.ReplayRefused += r.ReplayRefused
	d.Dropped += r.Dropped
	if d.ReplayRefused > 0 {
		add("Zabbix refused %d values replayed from the spool", d.ReplayRefused)
	}
	if d.Dropped > 0 {
		add("the spool dropped %d values beyond its bounds: they are lost", d.Dropped)
	}
	for i, l := range diagnosis {
		if i == 20 {
			add("diagnosis: ... and %d more", len(diagnosis)-i)
			break
		}
		add("diagnosis: %s", l)
	}
	return out
}

// listKeys names the first keys of a list and counts the rest.
func listKeys(keys []string) string {
	if len(keys) <= maxListedKeys {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:maxListedKeys], ", ") + fmt.Sprintf(" and %d more", len(keys)-maxListedKeys)
}

// Summary describes a run in one line: its period, what was computed and what became of it.
func (o Outcome) Summary(dryRun bool) string {
	b := o.Burst
	s := fmt.Sprintf("%s %s %s..%s: %d values, %d measures failed, %d skipped",
		o.Site, o.Family, b.Window.From.Format(time.RFC3339), b.Window.To.Format(time.RFC3339),
		len(b.Values), b.FailedKeys(), len(b.Skipped))
	switch {
	case dryRun:
		return s + " (dry run: nothing sent)"
	case o.Ledger != "" && len(b.Values) == 0:
		return fmt.Sprintf("%s %s %s..%s: %s", o.Site, o.Family, b.Window.From.Format(time.RFC3339),
			b.Window.To.Format(time.RFC3339), o.Ledger)
	case o.Ledger != "":
		return s + "; " + o.Ledger + "; " + o.Delivery.String()
	}
	return s + "; " + o.Delivery.String()
}

// printProblems writes the outcome's problems to w, one line each, prefixed with the site,
// family and period.
func printProblems(w io.Writer, o Outcome) {
	for _, p := range o.Problems() {
		fmt.Fprintf(w, "moodle-zabbix: %s %s %s: %s\n", o.Site, o.Family, periodName(o), p)
	}
}

// periodName names the outcome's period by its start, in the site's time zone.
func periodName(o Outcome) string {
	if o.Burst == nil || o.Burst.Window.From.IsZero() {
		return "-"
	}
	w := o.Burst.Window
	switch o.Family {
	case measures.Daily, measures.Weekly:
		return w.From.Format("2006-01-02")
	case measures.Monthly:
		return w.From.Format("2006-01")
	}
	return w.From.Format("2006-01-02T15:04Z07:00")
}

// printValues writes the burst's values and the self-monitoring values, sorted by key.
func printValues(w io.Writer, o Outcome) {
	vals := append(append([]measures.Value(nil), o.Burst.Values...), o.Reports...)
	sort.SliceStable(vals, func(i, j int) bool { return vals[i].Key < vals[j].Key })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range vals {
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", v.Key, shorten(v.Value, 80), v.Clock.Unix())
	}
	tw.Flush()
}
