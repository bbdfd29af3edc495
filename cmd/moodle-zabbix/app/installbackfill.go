package app

import (
	"context"
	"fmt"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// InstallBackfillRanges is how many past periods `install --backfill` computes for each
// family, so a new host starts with history: 12 months, 26 weeks, 90 days and 7 days of hours.
var InstallBackfillRanges = []struct {
	Family  measures.Family
	Periods int
}{
	{measures.Monthly, 12},
	{measures.Weekly, 26},
	{measures.Daily, 90},
	{measures.Hourly, 7 * 24},
}

// periodsBack returns the start of the n-th last whole period of family f before now.
func periodsBack(f measures.Family, n int, now time.Time, loc *time.Location) time.Time {
	w := measures.WindowFor(f, now, loc)
	for i := 1; i < n; i++ {
		w = measures.WindowFor(f, w.From, loc)
	}
	return w.From
}

// hostReadyWait bounds how long install --backfill waits for Zabbix to accept values for new
// hosts (its configuration cache is updated every CacheUpdateFrequency, 60 s by default).
var hostReadyWait = 3 * time.Minute

// installBackfill runs after a first install: it waits until Zabbix accepts each site's values
// (with a real instant run), then backfills every family over InstallBackfillRanges through
// the delivery ledger, so running it again sends nothing twice.
func installBackfill(ctx context.Context, env *cliEnv, cfgPath string, pause time.Duration) int {
	rt, code := loadRuntime(env, cfgPath)
	if rt == nil {
		return code
	}
	defer rt.Close()
	if err := rt.PrepareStateDir(); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
		return ExitFailure
	}
	w := outcomeWriter{report: env.stdout, problems: env.stderr}
	exit := ExitOK
	for _, name := range rt.Sites() {
		if err := rt.waitAccepted(ctx, name); err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix install --backfill: site %s: %v\n", name, err)
			exit = worse(exit, ExitFailure)
			continue
		}
		now := time.Now()
		loc := rt.site(name).site.Location
		for _, r := range InstallBackfillRanges {
			from := periodsBack(r.Family, r.Periods, now, loc)
			req := backfillRequest{from: &timeArg{flag: "from", instant: from}, pause: pause}
			fmt.Fprintf(env.stdout, "backfill site %s %s from %s\n", name, r.Family, from.Format(time.DateOnly))
			code := rt.backfill(ctx, name, r.Family, req, RunOptions{}, w)
			exit = worse(exit, code)
			if ctx.Err() != nil {
				return worse(exit, ExitFailure)
			}
		}
	}
	if exit == ExitOK {
		fmt.Fprintln(env.stdout, "backfill done")
	}
	return exit
}

// waitAccepted runs the instant family for a site until Zabbix stores its values: a host just
// created is refused until the server's configuration cache knows it. Retries are forced: a
// burst Zabbix refused entirely stored nothing, so nothing is duplicated.
func (rt *Runtime) waitAccepted(ctx context.Context, site string) error {
	deadline := time.Now().Add(hostReadyWait)
	for attempt := 0; ; attempt++ {
		o := rt.Run(ctx, site, measures.Instant, time.Now(), RunOptions{Force: attempt > 0})
		switch {
		case o.Burst.Unreachable != nil:
			return fmt.Errorf("database unreachable: %w", o.Burst.Unreachable)
		case o.Err != nil:
			return o.Err
		case o.Delivery.Processed > 0 || o.Ledger != "":
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("the host's values are still refused by Zabbix after %s: run 'moodle-zabbix check'", hostReadyWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
}
