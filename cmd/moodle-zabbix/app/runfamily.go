package app

import (
	"context"
	"fmt"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// RunOptions change how Run computes and delivers a burst.
type RunOptions struct {
	// DryRun computes the values without sending them or recording anything.
	DryRun bool
	// Force sends a period the delivery ledger says was delivered before. Zabbix then stores
	// nothing new for the values it already has and logs a duplicate-key error for each.
	Force bool
	// PastPeriod leaves out the measures that describe the present rather than their period
	// (see measures.Runner.PastPeriod) and the self-monitoring values: for backfills.
	PastPeriod bool
}

// Run runs family f for one site at now, in named steps: look the period up in the delivery
// ledger, compute the burst, deliver what the period still lacks, record the period, then send
// the self-monitoring values that describe this run, right after it.
func (rt *Runtime) Run(ctx context.Context, siteName string, f measures.Family, now time.Time, opts RunOptions) Outcome {
	out := Outcome{Site: siteName, Family: f}
	s := rt.site(siteName)
	if s == nil {
		out.Err = fmt.Errorf("no site named %q in the configuration", siteName)
		out.Burst = &measures.Burst{}
		return out
	}
	started := time.Now()
	runner := &measures.Runner{Registry: rt.registryFor(s), Logger: rt.log, DeferRunReports: true, PastPeriod: opts.PastPeriod}
	window := measures.WindowFor(f, now, s.site.Location)
	if !opts.DryRun && !opts.Force {
		// Checked before any query, so a rerun of a delivered period costs the database nothing.
		known, err := s.ledger.lookup(f, window.Clock().Unix())
		if err != nil {
			out.Err = err
			out.Burst = &measures.Burst{Site: siteName, Host: s.cfg.Host, Family: f, Window: window}
			return out
		}
		if reason := ledgerSkip(known); reason != "" && len(known.Entry.Missing) == 0 {
			out.Burst = &measures.Burst{Site: siteName, Host: s.cfg.Host, Family: f, Window: window, Started: started}
			out.Ledger = reason
			rt.report(ctx, s, runner, f, &out, started)
			return out
		}
	}
	site := s.siteFor(f)
	if opts.DryRun && site.Memo != nil {
		// A dry run records nothing, not even the counts of incremental measures.
		dry := *site
		dry.Memo = nil
		site = &dry
	}
	out.Burst = runner.Run(ctx, site, f, now)
	if opts.DryRun {
		return out
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	snd, err := rt.spoolingSender(ctx)
	if err != nil {
		out.Err = err
		return out
	}
	d := &Deliverer{Sender: snd, LLDWait: rt.LLDWait, LLDRetry: rt.LLDRetry, Logger: rt.log}
	toSend, previous, err := rt.pendingValues(s, out.Burst, opts.Force)
	if err != nil {
		out.Err = err
		return out
	}
	out.Unsent = len(out.Burst.Values) - len(toSend)
	if out.Unsent > 0 {
		out.Ledger = fmt.Sprintf("period delivered before: only the %d values it still lacked were sent", len(toSend))
	}
	sendBurst := *out.Burst
	sendBurst.Values = toSend
	out.Delivery = d.Deliver(ctx, s.cfg.Host, &sendBurst)
	out.Err = out.Delivery.Err
	if out.Delivery.Failed > 0 {
		out.Diagnosis = rt.diagnose(ctx, s.cfg.Host, out.Burst)
	}
	rt.recordPeriod(s, out, previous)
	rt.reportLocked(ctx, s, runner, d, f, &out, started)
	return out
}

// site returns the named site's runtime, or nil.
func (rt *Runtime) site(name string) *siteRuntime {
	for _, x := range rt.sites {
		if x.cfg.Name == name {
			return x
		}
	}
	return nil
}

// ledgerSkip says why a period is not sent again, or "" when it must be sent.
func ledgerSkip(l ledgerLookup) string {
	switch {
	case l.Known:
		return "period delivered before (delivery ledger): nothing sent again; --force sends it anyway"
	case l.Forgotten:
		return "period older than what the delivery ledger remembers, so it may have been delivered: nothing sent; --force sends it anyway"
	}
	return ""
}

// pendingValues returns the burst's values still to send for its period, and what the ledger
// knew of the period. A known period sends only what it still lacks; force sends everything.
func (rt *Runtime) pendingValues(s *siteRuntime, b *measures.Burst, force bool) ([]measures.Value, *ledgerLookup, error) {
	known, err := s.ledger.lookup(b.Family, b.Window.Clock().Unix())
	if err != nil {
		return nil, nil, err
	}
	if force || (!known.Known && !known.Forgotten) {
		return b.Values, &known, nil
	}
	if known.Forgotten {
		return nil, &known, nil
	}
	return missingValues(b.Values, known.Entry.Missing), &known, nil
}

// recordPeriod writes the delivered period into the ledger. Nothing is recorded when Zabbix
// stored nothing and the spool holds nothing, so such a period is sent in full next time.
func (rt *Runtime) recordPeriod(s *siteRuntime, o Outcome, before *ledgerLookup) {
	d := o.Delivery
	if d.Processed+d.Spooled == 0 && !before.Known {
		// Zabbix stored nothing (everything refused, for example a host its configuration
		// cache does not know yet): sending the period again duplicates nothing.
		return
	}
	missing := append(ledgerMissing(o.Burst), d.FailedKeys...)
	if before.Known && o.Unsent > 0 {
		missing = stillMissing(before.Entry.Missing, missing)
	}
	if err := s.ledger.record(o.Family, o.Burst.Window.Clock().Unix(), d, missing, time.Now()); err != nil {
		rt.log.Warn("cannot record the delivered period; a rerun would send it again", "site", s.cfg.Name, "err", err)
	}
}

// report records the run for self-monitoring and sends the values describing it.
func (rt *Runtime) report(ctx context.Context, s *siteRuntime, runner *measures.Runner, f measures.Family, o *Outcome, started time.Time) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	snd, err := rt.spoolingSender(ctx)
	if err != nil {
		o.Err = err
		return
	}
	d := &Deliverer{Sender: snd, LLDWait: rt.LLDWait, LLDRetry: rt.LLDRetry, Logger: rt.log}
	rt.reportLocked(ctx, s, runner, d, f, o, started)
}

// reportLocked records the run in the site's state and sends its self-monitoring values, so a
// failure shows in Zabbix within a minute of the run that failed (rt.mu held). Backfills send
// none.
func (rt *Runtime) reportLocked(ctx context.Context, s *siteRuntime, runner *measures.Runner, d *Deliverer, f measures.Family, o *Outcome, started time.Time) {
	if runner.PastPeriod {
		return
	}
	rec := &measures.RunRecord{
		Finished: time.Now(), Duration: time.Since(started).Seconds(),
		MeasuresFailed: o.Burst.FailedKeys(), Sent: o.Delivery.Sent, Processed: o.Delivery.Processed,
		Failed: o.Delivery.Failed, Spooled: o.Delivery.Spooled, SpoolDropped: o.Delivery.Dropped,
	}
	if rt.spool != nil {
		rec.SpoolDepth = rt.spool.Depth().Items
	}
	if o.ExitCode() == ExitOK {
		rec.LastSuccess = rec.Finished
	}
	if err := s.state.record(f, rec); err != nil {
		rt.log.Warn("cannot record the run for self-monitoring", "site", s.cfg.Name, "err", err)
	}
	vals, err := runner.RunReport(ctx, s.site, f, rec, rec.Finished)
	if err != nil {
		rt.log.Warn("self-monitoring values", "site", s.cfg.Name, "err", err)
	}
	if len(vals) == 0 {
		return
	}
	o.Reports = vals
	o.ReportDelivery = d.Deliver(ctx, s.cfg.Host, &measures.Burst{Family: f, Values: vals})
	if o.Err == nil {
		o.Err = o.ReportDelivery.Err
	}
}
