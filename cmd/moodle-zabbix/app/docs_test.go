package app

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/measures.md")

// TestMeasuresDocIsGenerated keeps docs/measures.md equal to what the registry generates.
func TestMeasuresDocIsGenerated(t *testing.T) {
	path := filepath.Join("..", "..", "..", "docs", "measures.md")
	want := MeasuresMarkdown(catalogue.Registry())
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./cmd/moodle-zabbix/app -run TestMeasuresDoc -update)", err)
	}
	if string(got) != want {
		t.Errorf("docs/measures.md is out of date with the measure definitions; run: go test ./cmd/moodle-zabbix/app -run TestMeasuresDoc -update")
	}
	for _, m := range catalogue.Registry().Measures() {
		if !strings.Contains(want, "`"+m.Key+"`") {
			t.Errorf("docs/measures.md does not mention %s", m.Key)
		}
	}
	for _, e := range catalogue.Excluded {
		if !strings.Contains(want, e.Key) {
			t.Errorf("docs/measures.md does not explain why %s is left out", e.Key)
		}
	}
}
