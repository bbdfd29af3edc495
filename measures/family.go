package measures

import (
	"fmt"
	"strings"
	"time"
)

// Family is a group of measures collected together on one schedule.
type Family int

// The five families, from the most to the least frequent.
const (
	Instant Family = iota + 1
	Hourly
	Daily
	Weekly
	Monthly
)

// Families lists every family in schedule order.
var Families = []Family{Instant, Hourly, Daily, Weekly, Monthly}

var familyNames = map[Family]string{
	Instant: "instant",
	Hourly:  "hourly",
	Daily:   "daily",
	Weekly:  "weekly",
	Monthly: "monthly",
}

// String returns the family's lower-case name, as used on the command line and in configs.
func (f Family) String() string {
	if n, ok := familyNames[f]; ok {
		return n
	}
	return fmt.Sprintf("family(%d)", int(f))
}

// Valid reports whether f is one of the five families.
func (f Family) Valid() bool {
	_, ok := familyNames[f]
	return ok
}

// ParseFamily returns the family with the given name.
func ParseFamily(name string) (Family, error) {
	for f, n := range familyNames {
		if strings.EqualFold(n, name) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown family %q (want instant, hourly, daily, weekly or monthly)", name)
}

// InstantLookback is the length of the instant family's window: the minute that ended when the
// family fired. Instant measures that need a longer lookback (users connected in the last 15
// minutes) compute it from the window's end.
const InstantLookback = time.Minute

// Window is the half-open period [From, To) a family's values describe.
type Window struct {
	Family Family
	From   time.Time
	To     time.Time
}

// Clock is the time stamp given to every value of the window: the last second of the period,
// so that a daily value is shown inside the day it describes and a repeated run of the same
// period produces the same time stamp (Zabbix then keeps one value, not two).
func (w Window) Clock() time.Time {
	return w.To.Add(-time.Second)
}

// String formats the window for logs.
func (w Window) String() string {
	return fmt.Sprintf("%s [%s, %s)", w.Family, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
}

// WindowFor returns the calendar period that family f describes when it runs at now, in the
// site's time zone loc: instant is the minute ending at now (rounded down to the minute), hourly
// the last full hour, daily yesterday, weekly the last ISO week (Monday to Monday) and monthly
// the last calendar month. Daylight-saving changes give 23- or 25-hour days, as the calendar does.
//
// Instant and hourly windows are measured in real time back from now: a minute or an hour
// always lasts 60 seconds or 60 minutes, even across a daylight-saving change. The local
// hour that repeats when clocks go back is two windows, each stamped with its own clock, and
// the hour that clocks skip in spring is no window at all (the hour before the change ends
// where the hour after it begins). Building them from the local clock reading instead would
// be ambiguous in the repeated hour.
func WindowFor(f Family, now time.Time, loc *time.Location) Window {
	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	y, mo, d := t.Date()
	var from, to time.Time
	switch f {
	case Instant:
		to = t.Add(-time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
		from = to.Add(-InstantLookback)
	case Hourly:
		to = t.Add(-time.Duration(t.Minute())*time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
		from = to.Add(-time.Hour)
	case Daily:
		to = time.Date(y, mo, d, 0, 0, 0, 0, loc)
		from = time.Date(y, mo, d-1, 0, 0, 0, 0, loc)
	case Weekly:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		to = time.Date(y, mo, d-back, 0, 0, 0, 0, loc)
		from = time.Date(y, mo, d-back-7, 0, 0, 0, 0, loc)
	case Monthly:
		to = time.Date(y, mo, 1, 0, 0, 0, 0, loc)
		from = time.Date(y, mo-1, 1, 0, 0, 0, 0, loc)
	default:
		to = t
		from = t
	}
	return Window{Family: f, From: from, To: to}
}
