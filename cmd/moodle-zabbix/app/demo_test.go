package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/catalogue"
)

// TestDemo runs the whole demo: synthetic site, every family, the real protocol to a loopback
// trapper. Every registered measure whose plugin is present must reach the trapper.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC)
	if err := Demo(context.Background(), &out, DemoOptions{Registry: catalogue.Registry(), Now: now}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
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
}
