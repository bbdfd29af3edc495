package provision

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The shapes below follow what a Zabbix 6.0.14 server answered to configuration.importcompare:
// an empty PHP array ([]) when nothing differs, otherwise kinds holding added / removed /
// updated lists, updated entries carrying before, after and their children's changes.
func TestSummarizeCompare(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		want  compareSummary
		total int
		text  string
	}{
		{name: "no change", raw: `[]`, want: compareSummary{}, total: 0, text: ""},
		{name: "empty object", raw: `{}`, want: compareSummary{}, total: 0, text: ""},
		{name: "null", raw: `null`, want: compareSummary{}, total: 0, text: ""},
		{
			name: "new templates",
			raw: `{"groups":{"added":[{"after":{"uuid":"a","name":"Templates/Moodle"}}]},
			       "templates":{"added":[{"after":{"template":"Moodle"}},{"after":{"template":"Moodle fleet"}}]}}`,
			want:  compareSummary{"groups": {Added: 1}, "templates": {Added: 2}},
			total: 3,
			text:  "groups: 1 added; templates: 2 added",
		},
		{
			name: "template listed only for its items",
			raw: `{"templates":{"updated":[{"before":{"template":"Moodle fleet","name":"Moodle fleet"},
			                               "after":{"template":"Moodle fleet","name":"Moodle fleet"},
			                               "items":{"added":[{"after":{"key":"a"}},{"after":{"key":"b"}}]}}]}}`,
			want:  compareSummary{"items": {Added: 2}},
			total: 2,
			text:  "items: 2 added",
		},
		{
			name: "template and nested changes",
			raw: `{"templates":{"updated":[{"before":{"template":"Moodle","macros":[{"macro":"{$A}","value":"1"}]},
			                               "after":{"template":"Moodle","macros":[{"macro":"{$A}","value":"2"}]},
			                               "items":{"updated":[{"before":{"key":"k","units":""},"after":{"key":"k","units":"s"},
			                                                     "triggers":{"removed":[{"before":{"name":"t"}}]}}],
			                                        "removed":[{"before":{"key":"old"}}]},
			                               "discovery_rules":{"updated":[{"before":{"key":"d"},"after":{"key":"d"},
			                                   "item_prototypes":{"added":[{"after":{"key":"p[{#X}]"}}]}}]}}]}}`,
			want: compareSummary{
				"templates":       {Updated: 1},
				"items":           {Updated: 1, Removed: 1},
				"triggers":        {Removed: 1},
				"item_prototypes": {Added: 1},
			},
			total: 5,
			text:  "item_prototypes: 1 added; items: 1 updated, 1 removed; templates: 1 updated; triggers: 1 removed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := summarizeCompare(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("summary = %v, want %v", got, tt.want)
			}
			if got.total() != tt.total {
				t.Errorf("total = %d, want %d", got.total(), tt.total)
			}
			if got.String() != tt.text {
				t.Errorf("String() = %q, want %q", got.String(), tt.text)
			}
		})
	}
}

func TestSummarizeCompareRejectsOddResults(t *testing.T) {
	for _, raw := range []string{`[1]`, `"x"`, `{`} {
		if _, err := summarizeCompare(json.RawMessage(raw)); err == nil {
			t.Errorf("summarizeCompare(%s) accepted", raw)
		}
	}
}

func TestYAMLTemplates(t *testing.T) {
	src := []byte("zabbix_export:\n  version: '6.0'\n  templates:\n    - uuid: x\n      template: Moodle\n    - template: Moodle fleet\n")
	got, err := yamlTemplates(src)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Moodle", "Moodle fleet"}; !reflect.DeepEqual(got, want) {
		t.Errorf("yamlTemplates = %v, want %v", got, want)
	}
}
