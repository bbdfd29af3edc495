package templates

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// document is the YAML root Zabbix expects.
type document struct {
	ZabbixExport *Export `yaml:"zabbix_export"`
}

// YAML encodes the export as a Zabbix import file, indented by two spaces. The output is
// stable: the same registry and options always give the same bytes.
func (e *Export) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(document{ZabbixExport: e}); err != nil {
		return nil, fmt.Errorf("templates: encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("templates: encode YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// Template returns the template with the given name, or nil.
func (e *Export) Template(name string) *Template {
	for i := range e.Templates {
		if e.Templates[i].Template == name {
			return &e.Templates[i]
		}
	}
	return nil
}

// Keys returns every trapper key of the export's host templates (the fleet template is left
// out): item keys, discovery rule keys and item prototype keys. A test can compare it with the
// keys the runner sends.
func Keys(e *Export) map[string]bool {
	out := map[string]bool{}
	for _, t := range e.Templates {
		if t.Template == FleetTemplate {
			continue
		}
		for _, it := range t.Items {
			out[it.Key] = true
		}
		for _, r := range t.DiscoveryRules {
			out[r.Key] = true
			for _, p := range r.ItemPrototypes {
				out[p.Key] = true
			}
		}
	}
	return out
}
