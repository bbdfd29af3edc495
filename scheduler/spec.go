// Package scheduler runs named jobs on cron specifications.
//
// It is a thin layer over github.com/robfig/cron/v3: the cron package parses
// specifications and computes fire times, while this package owns the run
// loop so that it can pass each job the time it was scheduled for, skip a run
// while the previous run of the same entry is still going, back off after
// repeated failures and recover from panicking jobs. It knows nothing of
// Moodle or Zabbix: callers name their entries and choose their specs.
package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Families lists the measure families in increasing period order. Each one is
// a key of DefaultSpecs.
var Families = []string{"instant", "hourly", "daily", "weekly", "monthly"}

// DefaultSpecs maps each family name to the cron specification that fires it
// when the configuration does not override it. The minutes past the hour
// leave time for the period that just ended to settle in the database.
var DefaultSpecs = map[string]string{
	"instant": "* * * * *",
	"hourly":  "3 * * * *",
	"daily":   "5 0 * * *",
	"weekly":  "5 0 * * 1",
	"monthly": "10 0 1 * *",
}

// IsFamily reports whether name is one of Families.
func IsFamily(name string) bool {
	_, ok := DefaultSpecs[name]
	return ok
}

// specParser accepts the classic five fields (minute, hour, day of month,
// month, day of week), the @hourly style descriptors and an optional
// CRON_TZ=Area/City prefix.
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// probeTime is where parse looks for a first fire time; any fixed instant
// works because cron specifications repeat at most every four years.
var probeTime = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// parse turns spec into a schedule, refusing specifications that never fire.
// The cron parser panics on a few malformed inputs (a CRON_TZ= prefix with
// nothing after it), so a panic is turned into an error here.
func parse(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if v := recover(); v != nil {
			sched, err = nil, fmt.Errorf("cron spec %q: malformed: %v", spec, v)
		}
	}()
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("cron spec %q: empty", spec)
	}
	sched, err = specParser.Parse(strings.TrimSpace(spec))
	if err != nil {
		return nil, fmt.Errorf("cron spec %q: %w", spec, err)
	}
	if sched.Next(probeTime).IsZero() {
		return nil, fmt.Errorf("cron spec %q: never fires", spec)
	}
	return sched, nil
}

// ValidateSpec reports whether spec is a valid five-field cron specification
// (minute hour day-of-month month day-of-week, or a descriptor such as
// @daily, optionally preceded by CRON_TZ=Area/City) that fires at least once.
// The error names the specification.
func ValidateSpec(spec string) error {
	_, err := parse(spec)
	return err
}

// Next returns the first time after after at which spec fires, evaluated in
// loc (time.Local when nil) unless spec carries its own CRON_TZ= prefix.
func Next(spec string, loc *time.Location, after time.Time) (time.Time, error) {
	sched, err := parse(spec)
	if err != nil {
		return time.Time{}, err
	}
	if loc == nil {
		loc = time.Local
	}
	return sched.Next(after.In(loc)), nil
}
