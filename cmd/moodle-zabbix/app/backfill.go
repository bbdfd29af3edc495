package app

import (
	"context"
	"fmt"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// MaxBackfillPeriods bounds one backfill, so a wrong --from cannot queue years of hours.
const MaxBackfillPeriods = 1000

// backfillRequest is a `run --from --to` range.
type backfillRequest struct {
	from, to *timeArg
	// pause separates two periods, bounding the load on the database and on Zabbix.
	pause time.Duration
}

// BackfillPeriods returns, oldest first, the run times of every whole period of family f that
// lies in [from, to) in loc: each run time is its period's end, where a run computes it.
func BackfillPeriods(f measures.Family, from, to time.Time, loc *time.Location) ([]time.Time, error) {
	if f == measures.Instant {
		return nil, fmt.Errorf("instant values describe the present and cannot be backfilled")
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("empty range: %s is not before %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	var out []time.Time
	for w := measures.WindowFor(f, to, loc); !w.From.Before(from); w = measures.WindowFor(f, w.From, loc) {
		if len(out) == MaxBackfillPeriods {
			return nil, fmt.Errorf("more than %d %s periods from %s: backfill a shorter range at a time", MaxBackfillPeriods, f, from.Format(time.RFC3339))
		}
		out = append(out, w.To)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// backfill computes and sends every period of the request for one site, oldest first, each
// stamped with its own clock, through the delivery ledger (a period delivered before is not
// sent again), pausing between periods.
func (rt *Runtime) backfill(ctx context.Context, siteName string, f measures.Family, req backfillRequest, opts RunOptions, w outcomeWriter) int {
	loc := rt.site(siteName).site.Location
	if loc == nil {
		loc = time.UTC
	}
	now := time.Now()
	from, err := req.from.in(loc, now)
	to := now
	if err == nil && req.to != nil {
		to, err = req.to.in(loc, now)
	}
	var periods []time.Time
	if err == nil {
		periods, err = BackfillPeriods(f, from, to, loc)
	}
	if err != nil {
		fmt.Fprintf(w.problems, "moodle-zabbix run: site %s: backfill: %v\n", siteName, err)
		return ExitFailure
	}
	opts.PastPeriod = true
	exit := ExitOK
	sent, known := 0, 0
	for i, at := range periods {
		if i > 0 && req.pause > 0 {
			select {
			case <-ctx.Done():
				return worse(exit, ExitFailure)
			case <-time.After(req.pause):
			}
		}
		o := rt.Run(ctx, siteName, f, at, opts)
		w.write(o)
		exit = worse(exit, o.ExitCode())
		if o.Ledger != "" && o.Delivery.Sent+o.Delivery.Spooled == 0 {
			known++
		} else if o.ExitCode() != ExitFailure {
			sent++
		}
		if o.ExitCode() == ExitFailure && o.Err != nil {
			break // Zabbix or the spool is out of reach: the next periods would fail alike
		}
	}
	if w.verbose || w.dryRun {
		fmt.Fprintf(w.report, "%s %s backfill %s..%s: %d periods, %d computed and sent, %d delivered before\n",
			siteName, f, from.Format(time.RFC3339), to.Format(time.RFC3339), len(periods), sent, known)
	}
	return exit
}
