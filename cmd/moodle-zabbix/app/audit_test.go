package app

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// TestAuditConfiguredSite audits a configured site with its own k-threshold and a cap the
// component rule exceeds: the values are printed, the folded entities and the cap warning are
// shown, and nothing reaches the trapper.
func TestAuditConfiguredSite(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC)
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	cfg := writeConfig(t, trapper.Addr, testSite(t, now), "")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("    discovery:\n      k_threshold: 3\n      caps: {moodle.discovery.components: 2}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out, errs := runCLI(t, "audit", "--config", cfg, "--family", "daily", "--at", now.Format(time.RFC3339))
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"audit of site main (Zabbix host moodle-main): k-threshold 3, category depth 1",
		"values leave the site",
		"  moodle.discovery.components  ",
		"  moodle.component.events[other]  ",
		"kept on the site by moodle.discovery.components:",
		"(cap 2, k 3)",
		"beyond the cap",
		"WARNING:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("audit output lacks %q:\n%s", want, out)
		}
	}
	if n := len(trapper.Items()); n != 0 {
		t.Errorf("the audit sent %d values", n)
	}

	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	unknown := strings.Replace(string(data), "{moodle.discovery.components: 2}", "{moodle.discovery.components: 2, moodle.discovery.nothing: 4}", 1)
	if err := os.WriteFile(cfg, []byte(unknown), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "audit", "--config", cfg, "--family", "daily")
	if code != ExitFailure || !strings.Contains(errs, `"moodle.discovery.nothing" is not a discovery rule`) {
		t.Errorf("a cap on an unknown rule: exit %d, stderr %s", code, errs)
	}
}
