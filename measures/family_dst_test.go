package measures

import (
	"testing"
	"time"
)

// TestWindowsAcrossDST runs every family at every minute around both daylight-saving changes
// of Europe/Paris (spring: 02:00 becomes 03:00; autumn: 03:00 becomes 02:00 again) and checks
// the windows they describe: each lies before the run, windows follow one another without gap
// or overlap, each is stamped with a clock no other window has, an instant window is one
// minute and an hourly window one hour of real time, and a day, week or month runs from local
// midnight to local midnight.
func TestWindowsAcrossDST(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	changes := []struct {
		name   string
		change time.Time // the instant the clocks change
		day    time.Time // local midnight starting the day of the change
		hours  int       // length of that day
	}{
		{"spring 2025", time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC), time.Date(2025, 3, 30, 0, 0, 0, 0, paris), 23},
		{"autumn 2025", time.Date(2025, 10, 26, 1, 0, 0, 0, time.UTC), time.Date(2025, 10, 26, 0, 0, 0, 0, paris), 25},
		{"spring 2026", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 0, 0, 0, 0, paris), 23},
		{"autumn 2026", time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 0, 0, 0, 0, paris), 25},
	}
	midnight := func(tm time.Time) bool {
		l := tm.In(paris)
		return l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0
	}
	for _, c := range changes {
		_, before := c.change.Add(-time.Second).In(paris).Zone()
		if _, after := c.change.In(paris).Zone(); before == after {
			t.Fatalf("%s: no offset change at %s", c.name, c.change)
		}
		for _, f := range Families {
			t.Run(c.name+"/"+f.String(), func(t *testing.T) {
				var prev Window
				clocks := map[time.Time]bool{}
				sawChangeDay := false
				// Every minute (and a few seconds past it) from two days before the change to
				// eight days after, which covers the week and the month that contain it.
				for now := c.change.Add(-48 * time.Hour); now.Before(c.change.Add(8 * 24 * time.Hour)); now = now.Add(time.Minute) {
					for _, late := range []time.Duration{0, 7 * time.Second} {
						w := WindowFor(f, now.Add(late), paris)
						if !w.From.Before(w.To) || w.To.After(now.Add(late)) {
							t.Fatalf("run at %s: window %s is empty or not in the past", now.Add(late).In(paris), w)
						}
						if w == prev {
							continue
						}
						if !prev.To.IsZero() && !w.From.Equal(prev.To) {
							t.Fatalf("run at %s: window %s does not start where %s ended", now.Add(late).In(paris), w, prev)
						}
						if clocks[w.Clock()] {
							t.Fatalf("run at %s: window %s has the clock %s of an earlier window", now.Add(late).In(paris), w, w.Clock())
						}
						clocks[w.Clock()] = true
						prev = w
						length := w.To.Sub(w.From)
						switch f {
						case Instant:
							if length != time.Minute {
								t.Fatalf("window %s lasts %s, want 1m", w, length)
							}
						case Hourly:
							if length != time.Hour {
								t.Fatalf("window %s lasts %s, want 1h", w, length)
							}
						default:
							if !midnight(w.From) || !midnight(w.To) {
								t.Fatalf("window %s does not run from local midnight to local midnight", w)
							}
						}
						if f == Daily && w.From.Equal(c.day) {
							sawChangeDay = true
							if length != time.Duration(c.hours)*time.Hour {
								t.Fatalf("the day of the change %s lasts %s, want %dh", w, length, c.hours)
							}
						}
					}
				}
				if f == Daily && !sawChangeDay {
					t.Errorf("no daily window for the day of the change")
				}
			})
		}
	}
}

// TestHourlyWindowInRepeatedHour pins the case of the autumn change: the run at 02:03 after
// the clocks went back describes the hour from 02:00+02:00 to 02:00+01:00, one hour long.
func TestHourlyWindowInRepeatedHour(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 10, 26, 1, 3, 0, 0, time.UTC) // 02:03+01:00, the second 02:03 of the day
	w := WindowFor(Hourly, now, paris)
	from, to := time.Date(2025, 10, 26, 0, 0, 0, 0, time.UTC), time.Date(2025, 10, 26, 1, 0, 0, 0, time.UTC)
	if !w.From.Equal(from) || !w.To.Equal(to) {
		t.Errorf("got %s, want [%s, %s)", w, from.In(paris).Format(time.RFC3339), to.In(paris).Format(time.RFC3339))
	}
}
