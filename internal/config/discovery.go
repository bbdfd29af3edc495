package config

import (
	"sort"
	"strings"
)

// Defaults of a site's discovery section.
const (
	// DefaultKThreshold is the smallest population a discovered entity (category, course,
	// authentication plugin, cohort, component) needs to be reported on its own.
	DefaultKThreshold = 5
	// DefaultCategoryDepth discovers the top-level categories only.
	DefaultCategoryDepth = 1
	// MaxCategoryDepth bounds category_depth: deeper trees belong in courses_of_interest.
	MaxCategoryDepth = 5
)

// Discovery limits what a site's discovery rules report.
type Discovery struct {
	// KThreshold is the smallest population (people) an entity needs to be reported on its
	// own; smaller entities go into the rule's "other" entity. Default 5; 1 reports every
	// entity.
	KThreshold int `yaml:"k_threshold"`
	// CategoryDepth is the deepest category level discovered, 1 being the top level.
	CategoryDepth int `yaml:"category_depth"`
	// Caps overrides the most entities a rule discovers, by rule key
	// (moodle.discovery.components: 30).
	Caps map[string]int `yaml:"caps"`
}

// discovery checks a site's discovery section and applies its defaults.
func (v *validator) discovery(p string, d *Discovery) {
	switch {
	case !v.ix.has(p + ".k_threshold"):
		d.KThreshold = DefaultKThreshold
	case d.KThreshold < 1:
		v.addf(p+".k_threshold", "%d: must be at least 1 (1 reports every entity)", d.KThreshold)
	}
	switch {
	case !v.ix.has(p + ".category_depth"):
		d.CategoryDepth = DefaultCategoryDepth
	case d.CategoryDepth < 1 || d.CategoryDepth > MaxCategoryDepth:
		v.addf(p+".category_depth", "%d: want 1 (top-level categories) to %d", d.CategoryDepth, MaxCategoryDepth)
	}
	keys := make([]string, 0, len(d.Caps))
	for k := range d.Caps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cp := childPath(p+".caps", k)
		if !strings.HasPrefix(k, "moodle.discovery.") || !itemKeyRE.MatchString(k) {
			v.addf(cp, "%q is not a discovery rule key (moodle.discovery.*)", k)
		}
		if d.Caps[k] < 1 {
			v.addf(cp, "%d: a cap is at least 1 entity", d.Caps[k])
		}
	}
}
