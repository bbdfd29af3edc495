package provision

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// importRules returns the configuration.import rules for the server's version: create what is
// missing and update what exists, never delete. Template groups are created when missing but
// never renamed. 6.0 calls the group rule "groups"; 6.2 split it into "template_groups" and
// "host_groups".
func importRules(v apiVersion) map[string]any {
	both := map[string]bool{"createMissing": true, "updateExisting": true}
	rules := map[string]any{
		"templates":          both,
		"items":              both,
		"discoveryRules":     both,
		"triggers":           both,
		"graphs":             both,
		"valueMaps":          both,
		"templateDashboards": both,
		"templateLinkage":    map[string]bool{"createMissing": true},
	}
	if v.atLeast(6, 2) {
		rules["template_groups"] = map[string]bool{"createMissing": true}
		rules["host_groups"] = map[string]bool{"createMissing": true}
	} else {
		rules["groups"] = map[string]bool{"createMissing": true}
	}
	return rules
}

// changeCount counts the objects of one kind that an import would add, update or remove.
type changeCount struct {
	Added, Updated, Removed int
}

// compareSummary is the digest of a configuration.importcompare result: counts per kind of
// object ("templates", "items", "triggers"...).
type compareSummary map[string]*changeCount

// total returns the number of objects that would change.
func (s compareSummary) total() int {
	n := 0
	for _, c := range s {
		n += c.Added + c.Updated + c.Removed
	}
	return n
}

// String lists the non-zero counts by kind, in name order: "items: 3 added, 1 updated;
// templates: 1 updated".
func (s compareSummary) String() string {
	kinds := make([]string, 0, len(s))
	for k := range s {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var parts []string
	for _, k := range kinds {
		c := s[k]
		var n []string
		if c.Added > 0 {
			n = append(n, fmt.Sprintf("%d added", c.Added))
		}
		if c.Updated > 0 {
			n = append(n, fmt.Sprintf("%d updated", c.Updated))
		}
		if c.Removed > 0 {
			n = append(n, fmt.Sprintf("%d removed", c.Removed))
		}
		if len(n) > 0 {
			parts = append(parts, k+": "+strings.Join(n, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// summarizeCompare digests a configuration.importcompare result. The result nests objects by
// kind, each kind holding "added", "removed" and "updated" lists; an updated entry carries
// "before" and "after" plus the changes of its children (a template's items, an item's
// triggers...). An entry is counted as updated only when its own before and after differ, so a
// template listed only because one of its items changed counts as one item update. An empty
// result is a JSON array ([]) or object ({}).
func summarizeCompare(raw json.RawMessage) (compareSummary, error) {
	var root any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("decode importcompare result: %w", err)
	}
	s := compareSummary{}
	switch r := root.(type) {
	case nil:
	case []any:
		if len(r) > 0 {
			return nil, fmt.Errorf("unexpected importcompare result: a non-empty list")
		}
	case map[string]any:
		walkCompare(r, s)
		for k, c := range s {
			if c.Added+c.Updated+c.Removed == 0 {
				delete(s, k)
			}
		}
	default:
		return nil, fmt.Errorf("unexpected importcompare result of type %T", root)
	}
	return s, nil
}

// walkCompare adds the changes listed in node (kind -> {added, removed, updated}) to s.
func walkCompare(node map[string]any, s compareSummary) {
	for kind, v := range node {
		if kind == "before" || kind == "after" {
			continue
		}
		changes, ok := v.(map[string]any)
		if !ok {
			continue
		}
		c := s[kind]
		if c == nil {
			c = &changeCount{}
			s[kind] = c
		}
		if l, ok := changes["added"].([]any); ok {
			c.Added += len(l)
		}
		if l, ok := changes["removed"].([]any); ok {
			c.Removed += len(l)
		}
		if l, ok := changes["updated"].([]any); ok {
			for _, e := range l {
				entry, ok := e.(map[string]any)
				if !ok {
					c.Updated++
					continue
				}
				if !reflect.DeepEqual(entry["before"], entry["after"]) {
					c.Updated++
				}
				walkCompare(entry, s)
			}
		}
	}
}

// yamlTemplates returns the technical names of the templates an import file defines; it
// lets a dry run tell a template the import would create from one that does not exist.
func yamlTemplates(src []byte) ([]string, error) {
	var doc struct {
		Export struct {
			Templates []struct {
				Template string `yaml:"template"`
			} `yaml:"templates"`
		} `yaml:"zabbix_export"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("read template YAML: %w", err)
	}
	var out []string
	for _, t := range doc.Export.Templates {
		out = append(out, t.Template)
	}
	return out, nil
}
