package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/scheduler"
)

// slotHold (a variable for tests) is how long a burst keeps its place in the global limit: a burst still running
// after it (a slow or unreachable database) gives its place back, so that a few stuck sites
// never hold up the fleet. A site never has two bursts of one family at once (the scheduler
// skips a tick whose previous run is still going), so the number of bursts stays bounded by
// sites x families even then.
var slotHold = 10 * time.Second

// pacer spreads the bursts of many sites over time and bounds how many run at once.
type pacer struct {
	once  sync.Once
	slots chan struct{}
}

// paced wraps the daemon job of one site and family: it starts the job the site's fixed jitter
// offset after the scheduled time and only once one of scale.max_concurrent_sites places is
// free. The offset is config.JitterOf(site, spread), where spread is scale.jitter but at most
// two thirds of the time to the entry's next tick (40 s for a minute), so a burst still runs
// before its next tick. The job still gets the scheduled time, so windows and clocks do not
// move.
func (rt *Runtime) paced(site, spec string, loc *time.Location, job scheduler.JobFunc) scheduler.JobFunc {
	rt.pace.once.Do(func() {
		rt.pace.slots = make(chan struct{}, max(1, rt.cfg.Scale.MaxConcurrentSites))
	})
	slots := rt.pace.slots
	jitter := rt.cfg.Scale.Jitter
	return func(ctx context.Context, fired time.Time) error {
		spread := jitter
		if next, err := scheduler.Next(spec, loc, fired); err == nil {
			spread = min(spread, next.Sub(fired)*2/3)
		}
		offset := config.JitterOf(site, spread)
		// Wait until fired+offset, and never longer than offset (a run for a future time).
		if wait := min(offset, time.Until(fired.Add(offset))); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		var release sync.Once
		free := func() { release.Do(func() { <-slots }) }
		timer := time.AfterFunc(slotHold, free)
		defer func() {
			timer.Stop()
			free()
		}()
		return job(ctx, fired)
	}
}

// applyShard keeps only the sites of one shard of a sharded fleet (--shard I/N or
// --shard LABEL; see config.Config.SelectShard).
func applyShard(cfg *config.Config, spec string) error {
	if spec == "" {
		return nil
	}
	sites, err := cfg.SelectShard(spec)
	if err != nil {
		return fmt.Errorf("--shard: %w", err)
	}
	if len(sites) == 0 {
		return fmt.Errorf("--shard %s: no site of %s falls in this shard", spec, cfg.File())
	}
	cfg.Sites = sites
	return nil
}
