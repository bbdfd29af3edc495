package app

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// TestDemo runs the whole demo: synthetic site, every family, the real protocol to a loopback
// trapper. Every registered measure whose plugin is present must reach the trapper.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC)
	start := time.Now()
	if err := Demo(context.Background(), &out, DemoOptions{Registry: catalogue.Registry(), Now: now}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	end := time.Now()
	text := out.String()
	for _, f := range measures.Families {
		if !strings.Contains(text, "== "+f.String()+":") {
			t.Errorf("no section for family %s", f)
		}
	}
	for _, d := range catalogue.Registry().Discoveries() {
		if !strings.Contains(text, "LLD "+d.Key) {
			t.Errorf("no LLD JSON for %s", d.Key)
		}
	}
	for _, m := range catalogue.Registry().Measures() {
		// The demo site has local_advancedperfs, a code and a data directory, but none of the
		// other plugins.
		if m.Discovery != nil || (m.Query.Component != "" && m.Query.Component != "local_advancedperfs") {
			continue
		}
		if !strings.Contains(text, "  "+m.Key+" ") {
			t.Errorf("the trapper did not receive %s", m.Key)
		}
	}
	if strings.Contains(text, "FAILED") {
		t.Errorf("a measure failed:\n%s", text)
	}
	checkDemoSelfValues(t, text, start, end)
}

// demoRow is a KEY VALUE CLOCK line of the demo's output.
var demoRow = regexp.MustCompile(`^  (moodle\.\S+)\s+(\S+)\s+(\d+)$`)

// checkDemoSelfValues checks that the demo's self-monitoring values describe each family's run
// as run sends them: the last success is the run's own time (the clock of the values, between
// start and end), the run took some time, and the values sent are the burst's, all accepted.
func checkDemoSelfValues(t *testing.T, text string, start, end time.Time) {
	sections := strings.Split(text, "\n== ")[1:]
	if len(sections) != len(measures.Families) {
		t.Fatalf("%d family sections, want %d", len(sections), len(measures.Families))
	}
	for _, sec := range sections {
		fam, _, _ := strings.Cut(sec, ":")
		burst, self, ok := strings.Cut(sec, "  -- self-monitoring of this run")
		if !ok {
			t.Errorf("%s: no self-monitoring values after the burst", fam)
			continue
		}
		// The burst's values as the trapper received them: table rows and discovery lines.
		received := strings.Count(burst, "\n  moodle.") + strings.Count(burst, "\n  LLD ")
		vals := map[string]float64{}
		clocks := map[string]int64{}
		for _, l := range strings.Split(self, "\n") {
			m := demoRow.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Errorf("%s: %s: value %q is not a number", fam, m[1], m[2])
			}
			vals[m[1]] = v
			clocks[m[1]], _ = strconv.ParseInt(m[3], 10, 64)
		}
		key := func(name string) string { return "moodle.self." + name + "[" + fam + "]" }
		for _, name := range []string{"lastsuccess", "duration", "sent", "processed", "failed", "measuresfailed", "spooled"} {
			if _, ok := vals[key(name)]; !ok {
				t.Errorf("%s: the trapper did not receive %s after the burst", fam, key(name))
			}
		}
		last, clock := int64(vals[key("lastsuccess")]), clocks[key("lastsuccess")]
		if last != clock || last < start.Unix() || last > end.Unix() {
			t.Errorf("%s: lastsuccess %d stamped %d, want the run's own time, between %d and %d", fam, last, clock, start.Unix(), end.Unix())
		}
		if d := vals[key("duration")]; d <= 0 || d > end.Sub(start).Seconds() {
			t.Errorf("%s: duration %v s, want the run's length (> 0, at most the demo's %v)", fam, d, end.Sub(start))
		}
		if sent := vals[key("sent")]; sent <= 0 || int(sent) != received || vals[key("processed")] != sent {
			t.Errorf("%s: self values say sent %v, processed %v; the trapper received %d values of the burst", fam, sent, vals[key("processed")], received)
		}
		for _, name := range []string{"failed", "measuresfailed", "spooled"} {
			if vals[key(name)] != 0 {
				t.Errorf("%s: %s = %v, want 0 on a clean run", fam, key(name), vals[key(name)])
			}
		}
		if fam == measures.Instant.String() {
			if _, ok := vals["moodle.self.spool.depth"]; !ok {
				t.Errorf("instant: no moodle.self.spool.depth after the burst")
			}
		}
	}
}

// TestDemoReportsProblems: a measure that fails shows as run's problem line, the demo fails,
// and the self-monitoring values sent after the burst count the failure and give no last
// success, since this run was the site's first and it did not succeed.
func TestDemoReportsProblems(t *testing.T) {
	reg := catalogue.Registry().Clone()
	reg.MustRegister(measures.Measure{
		Key: "moodle.demo.broken", Name: "Broken", Description: "Reads a table the site does not have.",
		Family: measures.Instant, Type: measures.Unsigned,
		Query: &measures.Query{Name: "demo.broken", SQL: "SELECT COUNT(*) AS n FROM {no_such_table}"}, Column: "n",
	})
	var out bytes.Buffer
	err := Demo(context.Background(), &out, DemoOptions{Registry: reg, Families: []measures.Family{measures.Instant}})
	text := out.String()
	if err == nil {
		t.Errorf("the demo succeeded with a failing measure:\n%s", text)
	}
	if !strings.Contains(text, "\n  FAILED measure moodle.demo.broken failed: ") {
		t.Errorf("no problem line naming the failing measure:\n%s", text)
	}
	for key, want := range map[string]string{"moodle.self.measuresfailed[instant]": "1", "moodle.self.lastsuccess[instant]": "0"} {
		found := false
		for _, l := range strings.Split(text, "\n") {
			if m := demoRow.FindStringSubmatch(l); m != nil && m[1] == key {
				found = true
				if m[2] != want {
					t.Errorf("%s = %s, want %s", key, m[2], want)
				}
			}
		}
		if !found {
			t.Errorf("the trapper did not receive %s:\n%s", key, text)
		}
	}
}
