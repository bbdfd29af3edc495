package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCustomMeasurePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "measures.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.yaml"), []byte("measures: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "custom_measures: [measures.d]\n" + minimal + "    custom_measures: [main.yaml]\n"
	c, err := Parse(filepath.Join(dir, "config.yaml"), []byte(src), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.CustomMeasures, []string{filepath.Join(dir, "measures.d")}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("custom_measures = %v, want %v", got, want)
	}
	if got := c.Sites[0].CustomMeasures; len(got) != 1 || got[0] != filepath.Join(dir, "main.yaml") {
		t.Errorf("sites[0].custom_measures = %v", got)
	}

	src = minimal + "    custom_measures: [main.yaml, missing.yaml, main.yaml]\n"
	_, err = Parse(filepath.Join(dir, "config.yaml"), []byte(src), testEnv)
	lines := errLines(err)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], filepath.Join(dir, "config.yaml")+":8: sites[0].custom_measures[1]: ") ||
		!strings.Contains(lines[0], "missing.yaml: no such file") || !strings.Contains(lines[1], "custom_measures[2]: ") || !strings.Contains(lines[1], "listed twice") {
		t.Errorf("errors:\n%v", err)
	}
}
