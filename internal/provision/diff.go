package provision

import (
	"fmt"
	"slices"
	"strings"
)

// hostState is what Zabbix holds for one host, as read by host.get.
type hostState struct {
	ID          string
	Host        string
	Name        string
	Description string
	// Disabled is true when the host's status is "not monitored".
	Disabled  bool
	Groups    []string // host group names
	Templates []string // technical names of the directly linked templates
	Macros    []hostMacro
}

// hostMacro is one host-level user macro.
type hostMacro struct {
	ID    string
	Macro string
	Value string
	// Type is 0 text, 1 secret text (its value is never returned), 2 vault secret.
	Type int
}

// macroUpdate sets a new value on an existing host macro.
type macroUpdate struct {
	ID, Macro, Value string
}

// hostDiff lists what must change on an existing host so that it matches a HostSpec, without
// removing anything the spec does not mention.
type hostDiff struct {
	// Name and Description are set when the visible name or description must change.
	Name, Description *string
	AddGroups         []string
	AddTemplates      []string
	// CreateMacros maps macro names to values for macros the host lacks.
	CreateMacros map[string]string
	UpdateMacros []macroUpdate
	// Notes are remarks that do not change anything (a disabled host, a secret macro left
	// alone).
	Notes []string
}

// empty reports whether nothing needs to change.
func (d hostDiff) empty() bool {
	return d.Name == nil && d.Description == nil && len(d.AddGroups) == 0 &&
		len(d.AddTemplates) == 0 && len(d.CreateMacros) == 0 && len(d.UpdateMacros) == 0
}

// diffHost compares a host as Zabbix holds it with the spec. It adds the spec's groups,
// templates and macros and leaves everything else alone: other groups, other linked templates,
// other macros and the monitoring status. An empty VisibleName or Description in the spec
// means "do not manage it". A macro of another type than plain text (secret or vault) is never
// overwritten, since its value cannot be compared.
func diffHost(cur hostState, spec HostSpec) hostDiff {
	var d hostDiff
	if spec.VisibleName != "" && spec.VisibleName != cur.Name {
		name := spec.VisibleName
		d.Name = &name
	}
	if spec.Description != "" && spec.Description != cur.Description {
		desc := spec.Description
		d.Description = &desc
	}
	for _, g := range uniq(spec.Groups) {
		if !slices.Contains(cur.Groups, g) {
			d.AddGroups = append(d.AddGroups, g)
		}
	}
	for _, t := range uniq(spec.Templates) {
		if !slices.Contains(cur.Templates, t) {
			d.AddTemplates = append(d.AddTemplates, t)
		}
	}
	have := make(map[string]hostMacro, len(cur.Macros))
	for _, m := range cur.Macros {
		have[m.Macro] = m
	}
	for _, name := range sortedKeys(spec.Macros) {
		want := spec.Macros[name]
		m, ok := have[name]
		switch {
		case !ok:
			if d.CreateMacros == nil {
				d.CreateMacros = map[string]string{}
			}
			d.CreateMacros[name] = want
		case m.Type != 0:
			d.Notes = append(d.Notes, fmt.Sprintf("macro %s is a secret: left as is", name))
		case m.Value != want:
			d.UpdateMacros = append(d.UpdateMacros, macroUpdate{ID: m.ID, Macro: name, Value: want})
		}
	}
	if cur.Disabled {
		d.Notes = append(d.Notes, "host is disabled in Zabbix: left as is, values will be refused")
	}
	return d
}

// describe writes the changes as a short phrase: `name "X"; +groups a, b; +templates T; macros
// {$A}, {$B}`. Macro values are not shown: a value set by hand may be sensitive.
func (d hostDiff) describe() string {
	var parts []string
	if d.Name != nil {
		parts = append(parts, fmt.Sprintf("visible name %q", *d.Name))
	}
	if d.Description != nil {
		parts = append(parts, "description")
	}
	if len(d.AddGroups) > 0 {
		parts = append(parts, "+groups "+strings.Join(d.AddGroups, ", "))
	}
	if len(d.AddTemplates) > 0 {
		parts = append(parts, "+templates "+strings.Join(d.AddTemplates, ", "))
	}
	var macros []string
	macros = append(macros, sortedKeys(d.CreateMacros)...)
	for _, u := range d.UpdateMacros {
		macros = append(macros, u.Macro)
	}
	if len(macros) > 0 {
		slices.Sort(macros)
		parts = append(parts, "macros "+strings.Join(macros, ", "))
	}
	return strings.Join(parts, "; ")
}

// describeCreate writes what a new host gets.
func describeCreate(spec HostSpec) string {
	parts := []string{
		"groups " + strings.Join(uniq(spec.Groups), ", "),
		"templates " + strings.Join(uniq(spec.Templates), ", "),
	}
	if len(spec.Macros) > 0 {
		parts = append(parts, "macros "+strings.Join(sortedKeys(spec.Macros), ", "))
	}
	return strings.Join(parts, "; ")
}

// uniq returns the non-empty strings of in, first occurrence first.
func uniq(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
