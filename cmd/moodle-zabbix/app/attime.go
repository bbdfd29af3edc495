package app

import (
	"fmt"
	"time"
)

// timeArg is a time given on the command line: a date (midnight in each site's time zone) or
// an RFC 3339 time.
type timeArg struct {
	flag, text string
	date       time.Time // year, month and day when the text is a date
	instant    time.Time // the time when the text is RFC 3339
}

// parseTimeArg reads a --at, --from or --to value. Future times are refused against now: a
// period that has not ended yet cannot be computed.
func parseTimeArg(flag, text string, now time.Time) (timeArg, error) {
	a := timeArg{flag: flag, text: text}
	if d, err := time.Parse(time.DateOnly, text); err == nil {
		a.date = d
		// The earliest midnight on Earth is at UTC+14: refuse only what is in the future everywhere.
		if d.Add(-14 * time.Hour).After(now) {
			return a, fmt.Errorf("--%s %s is in the future (now is %s): give a past date", flag, text, now.UTC().Format(time.RFC3339))
		}
		return a, nil
	}
	t, err := time.Parse(time.RFC3339, text)
	if err != nil {
		return a, fmt.Errorf("--%s %q: want a date (2026-12-01, midnight in the site's time zone) or an RFC 3339 time (2026-12-01T00:05:00+01:00)", flag, text)
	}
	if t.After(now) {
		return a, fmt.Errorf("--%s %s is in the future (now is %s): give a past time", flag, text, now.Format(time.RFC3339))
	}
	a.instant = t
	return a, nil
}

// in returns the time in the site's time zone: a date's midnight there, or the instant.
func (a timeArg) in(loc *time.Location, now time.Time) (time.Time, error) {
	if a.instant.IsZero() {
		t := time.Date(a.date.Year(), a.date.Month(), a.date.Day(), 0, 0, 0, 0, loc)
		if t.After(now) {
			return t, fmt.Errorf("--%s %s: midnight in %s is in the future (now is %s)", a.flag, a.text, loc, now.In(loc).Format(time.RFC3339))
		}
		return t, nil
	}
	return a.instant, nil
}
