package catalogue_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// readmeCounts is the README sentence that counts the catalogue, written from the registry:
// measures (item prototypes apart), those under report_zabbix's keys, those of contrib packs
// (the measures of templates other than the two core ones), discovery rules and prototypes.
func readmeCounts(reg *measures.Registry) string {
	var items, legacy, contrib, prototypes int
	for _, m := range reg.Measures() {
		if m.Discovery != nil {
			prototypes++
			continue
		}
		items++
		if m.Legacy {
			legacy++
		}
		if t := m.TemplateName(); t != measures.DefaultTemplate && t != measures.PerformanceTemplate {
			contrib++
		}
	}
	return fmt.Sprintf("%d measures in %s families (%d of them under report_zabbix's keys, %d in contrib packs for "+
		"Moodle plugins), plus %s low-level discovery rules with %d item prototypes.",
		items, smallNumber(len(measures.Families)), legacy, contrib, smallNumber(len(reg.Discoveries())), prototypes)
}

// smallNumber spells the numbers one to ten, as English prose does, and writes the others.
func smallNumber(n int) string {
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	if n >= 0 && n < len(words) {
		return words[n]
	}
	return strconv.Itoa(n)
}

// TestReadmeCounts keeps the counts of the README's "What it measures" true to the registry.
func TestReadmeCounts(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(b)), " ")
	want := readmeCounts(catalogue.Registry())
	if !strings.Contains(readme, want) {
		t.Errorf("README.md does not count the catalogue right; its \"What it measures\" section must say:\n%s", want)
	}
}
