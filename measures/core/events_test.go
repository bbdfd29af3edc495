package core

import (
	"regexp"
	"testing"
)

var eventNameRE = regexp.MustCompile(`^\\[a-z][a-z0-9_]*\\event\\[a-z][a-z0-9_]*$`)

// TestLearningProfiles keeps the mapping a mapping: every name is a Moodle event class name and
// belongs to one profile only, and profile names are unique.
func TestLearningProfiles(t *testing.T) {
	owner := map[string]string{}
	names := map[string]bool{}
	for _, p := range LearningProfiles {
		if names[p.Name] || p.Name == "other" {
			t.Errorf("profile %q: duplicate or reserved name", p.Name)
		}
		names[p.Name] = true
		if len(p.Events) == 0 {
			t.Errorf("profile %s has no event", p.Name)
		}
		for _, e := range p.Events {
			if !eventNameRE.MatchString(e) {
				t.Errorf("profile %s: %q is not an event class name like \\core\\event\\user_loggedin", p.Name, e)
			}
			if o, dup := owner[e]; dup {
				t.Errorf("event %s is in profiles %s and %s", e, o, p.Name)
			}
			owner[e] = p.Name
		}
	}
}
