package measures

import (
	"testing"
	"time"
)

func TestWindowFor(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	tests := []struct {
		name     string
		f        Family
		now      time.Time
		loc      *time.Location
		from, to time.Time
	}{
		{"instant is the minute that ended", Instant, at(time.UTC, 2026, 6, 1, 10, 17).Add(42 * time.Second), time.UTC,
			at(time.UTC, 2026, 6, 1, 10, 16), at(time.UTC, 2026, 6, 1, 10, 17)},
		{"hourly is the last full hour", Hourly, at(paris, 2026, 6, 1, 10, 3), paris,
			at(paris, 2026, 6, 1, 9, 0), at(paris, 2026, 6, 1, 10, 0)},
		{"hourly in a half-hour zone", Hourly, at(kolkata, 2026, 6, 1, 10, 3), kolkata,
			at(kolkata, 2026, 6, 1, 9, 0), at(kolkata, 2026, 6, 1, 10, 0)},
		{"daily is yesterday in the site's zone", Daily, at(paris, 2026, 6, 1, 0, 5), paris,
			at(paris, 2026, 5, 31, 0, 0), at(paris, 2026, 6, 1, 0, 0)},
		{"daily from UTC sees another day", Daily, at(paris, 2026, 6, 1, 0, 5), time.UTC,
			at(time.UTC, 2026, 5, 30, 0, 0), at(time.UTC, 2026, 5, 31, 0, 0)},
		{"daily over the spring DST change is 23 hours", Daily, at(paris, 2026, 3, 30, 0, 5), paris,
			at(paris, 2026, 3, 29, 0, 0), at(paris, 2026, 3, 30, 0, 0)},
		{"weekly on a Monday is the previous ISO week", Weekly, at(paris, 2026, 6, 1, 0, 5), paris,
			at(paris, 2026, 5, 25, 0, 0), at(paris, 2026, 6, 1, 0, 0)},
		{"weekly on a Sunday", Weekly, at(paris, 2026, 6, 7, 23, 0), paris,
			at(paris, 2026, 5, 25, 0, 0), at(paris, 2026, 6, 1, 0, 0)},
		{"monthly is the last calendar month", Monthly, at(paris, 2026, 6, 1, 0, 10), paris,
			at(paris, 2026, 5, 1, 0, 0), at(paris, 2026, 6, 1, 0, 0)},
		{"monthly in January is December", Monthly, at(time.UTC, 2027, 1, 15, 0, 0), time.UTC,
			at(time.UTC, 2026, 12, 1, 0, 0), at(time.UTC, 2027, 1, 1, 0, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := WindowFor(tc.f, tc.now, tc.loc)
			if !w.From.Equal(tc.from) || !w.To.Equal(tc.to) {
				t.Errorf("got %s, want [%s, %s)", w, tc.from, tc.to)
			}
			if !w.Clock().Equal(tc.to.Add(-time.Second)) {
				t.Errorf("clock %s, want the last second of the window", w.Clock())
			}
		})
	}
	spring := WindowFor(Daily, at(paris, 2026, 3, 30, 0, 5), paris)
	if d := spring.To.Sub(spring.From); d != 23*time.Hour {
		t.Errorf("spring-forward day lasts %s, want 23h", d)
	}
}

func TestParseFamily(t *testing.T) {
	for _, f := range Families {
		got, err := ParseFamily(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFamily(%q) = %v, %v", f.String(), got, err)
		}
	}
	if _, err := ParseFamily("yearly"); err == nil {
		t.Error("ParseFamily(yearly) accepted")
	}
}
