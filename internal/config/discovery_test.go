package config

import (
	"reflect"
	"testing"
)

func TestDiscoveryDefaultsAndValues(t *testing.T) {
	s := mustParse(t, minimal).Sites[0].Discovery
	if s.KThreshold != DefaultKThreshold || s.CategoryDepth != DefaultCategoryDepth || len(s.Caps) != 0 {
		t.Errorf("defaults: %+v", s)
	}
	s = mustParse(t, minimal+`    discovery:
      k_threshold: 10
      category_depth: 2
      caps: {moodle.discovery.components: 30}
`).Sites[0].Discovery
	want := Discovery{KThreshold: 10, CategoryDepth: 2, Caps: map[string]int{"moodle.discovery.components": 30}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestDiscoveryErrors(t *testing.T) {
	_, err := Parse("config.yaml", []byte(minimal+`    discovery:
      k_threshold: 0
      category_depth: 9
      caps:
        moodle.users.alive: 3
        moodle.discovery.cohorts: 0
`), testEnv)
	want := []string{
		"config.yaml:9: sites[0].discovery.k_threshold: 0: must be at least 1 (1 reports every entity)",
		"config.yaml:10: sites[0].discovery.category_depth: 9: want 1 (top-level categories) to 5",
		`config.yaml:12: sites[0].discovery.caps["moodle.users.alive"]: "moodle.users.alive" is not a discovery rule key (moodle.discovery.*)`,
		`config.yaml:13: sites[0].discovery.caps["moodle.discovery.cohorts"]: 0: a cap is at least 1 entity`,
	}
	if got := errLines(err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%q\nwant\n%q", got, want)
	}
}
