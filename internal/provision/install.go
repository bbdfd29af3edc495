package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Plan is what Install provisions: the template import file, the host groups and the hosts.
type Plan struct {
	// TemplateYAML is a Zabbix import file (templates.Build(...).YAML()); empty skips the
	// template import.
	TemplateYAML []byte
	// HostGroups are created when missing; the groups named by the hosts are added to them.
	HostGroups []string
	// Hosts are created, or completed when they exist.
	Hosts []HostSpec
	// Dashboards are global dashboards, created or brought in line after the hosts; the host
	// groups their widgets name must be in HostGroups.
	Dashboards []DashboardSpec
}

// HostSpec is one Zabbix host as the plan wants it. A Moodle site host links "Moodle" and
// "Moodle performance" plus the contrib templates; a fleet host links "Moodle fleet" and sets
// {$MOODLE.FLEET.GROUP} to the host group it aggregates.
type HostSpec struct {
	// Host is the technical host name, the one the sender puts in every value.
	Host string
	// VisibleName is the name shown in the frontend; empty leaves it to Zabbix (the technical
	// name) on creation and untouched on update.
	VisibleName string
	// Groups are host group names; the host is added to each (never removed from others).
	Groups []string
	// Templates are technical template names; each is linked (others are never unlinked).
	Templates []string
	// Macros are host macros set to these values; other host macros are left alone.
	Macros map[string]string
	// Description is the host description; empty leaves it untouched.
	Description string
}

// Options tune Install. The zero value provisions for real and logs nothing.
type Options struct {
	// DryRun reads everything and reports what would change, writing nothing.
	DryRun bool
	// Logger receives one record per API write; nil discards them.
	Logger *slog.Logger
}

// Step is one line of a Report: an object and what happened to it.
type Step struct {
	// Object names what the step is about: "template import", "host group Moodle sites",
	// "host moodle-main".
	Object string
	// Detail says what happened, or would happen in a dry run: "created (...)", "unchanged".
	Detail string
	// Changed is true when the step wrote something (or would, in a dry run).
	Changed bool
}

// String formats the step as "object: detail".
func (s Step) String() string { return s.Object + ": " + s.Detail }

// Report is the outcome of Install, one step per line.
type Report struct {
	// ZabbixVersion is the API version the server reported.
	ZabbixVersion string
	// DryRun is true when nothing was written.
	DryRun bool
	// Steps are in the order they ran.
	Steps []Step
}

// Changed reports whether any step changed something (or would, in a dry run).
func (r Report) Changed() bool {
	return slices.ContainsFunc(r.Steps, func(s Step) bool { return s.Changed })
}

// Lines returns one line per step.
func (r Report) Lines() []string {
	out := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		out[i] = s.String()
	}
	return out
}

// String returns the lines, each ending with a newline.
func (r Report) String() string {
	var b strings.Builder
	for _, l := range r.Lines() {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// installer carries the state of one Install run.
type installer struct {
	api    caller
	opts   Options
	log    *slog.Logger
	ver    apiVersion
	report *Report
	// groupIDs maps host group names to ids; an empty id is a group a dry run would create.
	groupIDs map[string]string
	// templateIDs maps template technical names to ids; an empty id is a template a dry run
	// would import.
	templateIDs map[string]string
}

// Install provisions Zabbix so that it matches the plan: host groups, then the template import
// (compared first, imported only when it differs), then the hosts. It stops at the first error,
// which names the step, the object and the API method; the report holds the steps done so
// far. A second run with the same plan reports no change.
func Install(ctx context.Context, api Caller, plan Plan, opts Options) (Report, error) {
	if isNil(api) {
		return Report{DryRun: opts.DryRun}, errors.New("zabbix api: no API client")
	}
	return install(ctx, api, plan, opts)
}

func install(ctx context.Context, api caller, plan Plan, opts Options) (Report, error) {
	report := Report{DryRun: opts.DryRun}
	in := &installer{
		api:    api,
		opts:   opts,
		log:    opts.Logger,
		report: &report,
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if err := validatePlan(plan); err != nil {
		return report, err
	}
	ver, err := fetchVersion(ctx, api)
	if err != nil {
		return report, fmt.Errorf("zabbix api: %w", err)
	}
	in.ver = ver
	report.ZabbixVersion = ver.String()

	if err := in.hostGroups(ctx, plan); err != nil {
		return report, err
	}
	if err := in.templates(ctx, plan.TemplateYAML); err != nil {
		return report, err
	}
	if err := in.resolveTemplates(ctx, plan); err != nil {
		return report, err
	}
	for _, h := range plan.Hosts {
		if err := in.host(ctx, h); err != nil {
			return report, fmt.Errorf("host %s: %w", h.Host, err)
		}
	}
	if err := in.dashboards(ctx, plan.Dashboards); err != nil {
		return report, err
	}
	return report, nil
}

// validatePlan refuses what the API would refuse less clearly.
func validatePlan(plan Plan) error {
	seen := map[string]bool{}
	for i, h := range plan.Hosts {
		if strings.TrimSpace(h.Host) == "" {
			return fmt.Errorf("host #%d: empty host name", i+1)
		}
		if seen[h.Host] {
			return fmt.Errorf("host %s: listed twice in the plan", h.Host)
		}
		seen[h.Host] = true
		if len(uniq(h.Groups)) == 0 {
			return fmt.Errorf("host %s: no host group (Zabbix requires one)", h.Host)
		}
	}
	return nil
}

func (in *installer) add(object, detail string, changed bool) {
	in.report.Steps = append(in.report.Steps, Step{Object: object, Detail: detail, Changed: changed})
}

// hostGroups creates the missing host groups of the plan and of its hosts. Existing groups are
// only read.
func (in *installer) hostGroups(ctx context.Context, plan Plan) error {
	names := slices.Clone(plan.HostGroups)
	for _, h := range plan.Hosts {
		names = append(names, h.Groups...)
	}
	names = uniq(names)
	in.groupIDs = map[string]string{}
	if len(names) == 0 {
		return nil
	}
	var found []struct {
		GroupID flexString `json:"groupid"`
		Name    string     `json:"name"`
	}
	err := in.api.Call(ctx, "hostgroup.get", map[string]any{
		"output": []string{"groupid", "name"},
		"filter": map[string]any{"name": names},
	}, &found)
	if err != nil {
		return fmt.Errorf("host groups: hostgroup.get: %w", err)
	}
	for _, g := range found {
		in.groupIDs[g.Name] = string(g.GroupID)
	}
	for _, name := range names {
		object := "host group " + name
		if _, ok := in.groupIDs[name]; ok {
			in.add(object, "exists", false)
			continue
		}
		if in.opts.DryRun {
			in.groupIDs[name] = ""
			in.add(object, "would be created", true)
			continue
		}
		var res struct {
			GroupIDs []flexString `json:"groupids"`
		}
		if err := in.api.Call(ctx, "hostgroup.create", map[string]any{"name": name}, &res); err != nil {
			return fmt.Errorf("%s: hostgroup.create: %w", object, err)
		}
		if len(res.GroupIDs) != 1 {
			return fmt.Errorf("%s: hostgroup.create: answered %d ids", object, len(res.GroupIDs))
		}
		in.groupIDs[name] = string(res.GroupIDs[0])
		in.log.Info("zabbix: created host group", "group", name, "groupid", res.GroupIDs[0])
		in.add(object, "created", true)
	}
	return nil
}

// templates compares the template file with the server and imports it when it differs.
func (in *installer) templates(ctx context.Context, src []byte) error {
	const object = "template import"
	if len(src) == 0 {
		in.add(object, "skipped (no template file in the plan)", false)
		return nil
	}
	params := map[string]any{
		"format": "yaml",
		"source": string(src),
		"rules":  importRules(in.ver),
	}
	var raw json.RawMessage
	if err := in.api.Call(ctx, "configuration.importcompare", params, &raw); err != nil {
		return fmt.Errorf("%s: configuration.importcompare: %w", object, err)
	}
	sum, err := summarizeCompare(raw)
	if err != nil {
		return fmt.Errorf("%s: configuration.importcompare: %w", object, err)
	}
	n := sum.total()
	if n == 0 {
		in.add(object, "0 changes", false)
		return nil
	}
	detail := fmt.Sprintf("%d changes (%s)", n, sum)
	if in.opts.DryRun {
		in.add(object, detail+", would be imported", true)
		return nil
	}
	var ok bool
	if err := in.api.Call(ctx, "configuration.import", params, &ok); err != nil {
		return fmt.Errorf("%s: configuration.import: %w", object, err)
	}
	if !ok {
		return fmt.Errorf("%s: configuration.import: the server answered false", object)
	}
	in.log.Info("zabbix: imported templates", "changes", n)
	in.add(object, detail+", imported", true)
	return nil
}

// resolveTemplates finds the ids of every template the hosts link. A template that does not
// exist is an error, unless a dry run would import it.
func (in *installer) resolveTemplates(ctx context.Context, plan Plan) error {
	var names []string
	for _, h := range plan.Hosts {
		names = append(names, h.Templates...)
	}
	names = uniq(names)
	in.templateIDs = map[string]string{}
	if len(names) == 0 {
		return nil
	}
	var found []struct {
		TemplateID flexString `json:"templateid"`
		Host       string     `json:"host"`
	}
	err := in.api.Call(ctx, "template.get", map[string]any{
		"output": []string{"templateid", "host"},
		"filter": map[string]any{"host": names},
	}, &found)
	if err != nil {
		return fmt.Errorf("templates: template.get: %w", err)
	}
	for _, t := range found {
		in.templateIDs[t.Host] = string(t.TemplateID)
	}
	var inFile []string
	if in.opts.DryRun {
		if inFile, err = yamlTemplates(plan.TemplateYAML); err != nil {
			return fmt.Errorf("template import: %w", err)
		}
	}
	for _, h := range plan.Hosts {
		for _, t := range uniq(h.Templates) {
			if _, ok := in.templateIDs[t]; ok {
				continue
			}
			if in.opts.DryRun && slices.Contains(inFile, t) {
				in.templateIDs[t] = ""
				continue
			}
			return fmt.Errorf("host %s: template %q not found in Zabbix (import it, or fix the plan)", h.Host, t)
		}
	}
	return nil
}

// host creates one host or completes it.
func (in *installer) host(ctx context.Context, spec HostSpec) error {
	object := "host " + spec.Host
	cur, found, err := in.readHost(ctx, spec.Host)
	if err != nil {
		return err
	}
	if !found {
		detail := describeCreate(spec)
		if in.opts.DryRun {
			in.add(object, "would be created ("+detail+")", true)
			return nil
		}
		if err := in.createHost(ctx, spec); err != nil {
			return err
		}
		in.add(object, "created ("+detail+")", true)
		return nil
	}
	d := diffHost(cur, spec)
	notes := ""
	if len(d.Notes) > 0 {
		notes = " (" + strings.Join(d.Notes, "; ") + ")"
	}
	if d.empty() {
		in.add(object, "unchanged"+notes, false)
		return nil
	}
	if in.opts.DryRun {
		in.add(object, "would be updated ("+d.describe()+")"+notes, true)
		return nil
	}
	if err := in.updateHost(ctx, cur, d); err != nil {
		return err
	}
	in.add(object, "updated ("+d.describe()+")"+notes, true)
	return nil
}

// readHost reads a host by its exact technical name.
func (in *installer) readHost(ctx context.Context, name string) (hostState, bool, error) {
	selGroups, groupsMember := in.ver.hostGroupsSelector()
	params := map[string]any{
		"output":                []string{"hostid", "host", "name", "description", "status"},
		"filter":                map[string]any{"host": []string{name}},
		"selectParentTemplates": []string{"templateid", "host"},
		selGroups:               []string{"groupid", "name"},
		"selectMacros":          []string{"hostmacroid", "macro", "value", "type"},
	}
	var found []map[string]json.RawMessage
	if err := in.api.Call(ctx, "host.get", params, &found); err != nil {
		return hostState{}, false, fmt.Errorf("host.get: %w", err)
	}
	var hosts []hostState
	for _, raw := range found {
		h, err := decodeHost(raw, groupsMember)
		if err != nil {
			return hostState{}, false, fmt.Errorf("host.get: %w", err)
		}
		if h.Host == name {
			hosts = append(hosts, h)
		}
	}
	switch len(hosts) {
	case 0:
		return hostState{}, false, nil
	case 1:
		return hosts[0], true, nil
	}
	return hostState{}, false, fmt.Errorf("host.get: %d hosts are named %q", len(hosts), name)
}

// decodeHost reads one host.get result.
func decodeHost(raw map[string]json.RawMessage, groupsMember string) (hostState, error) {
	var base struct {
		HostID      flexString `json:"hostid"`
		Host        string     `json:"host"`
		Name        string     `json:"name"`
		Description string     `json:"description"`
		Status      flexString `json:"status"`
	}
	var groups []struct {
		Name string `json:"name"`
	}
	var templates []struct {
		Host string `json:"host"`
	}
	var macros []struct {
		HostMacroID flexString `json:"hostmacroid"`
		Macro       string     `json:"macro"`
		Value       string     `json:"value"`
		Type        flexString `json:"type"`
	}
	whole, err := json.Marshal(raw)
	if err != nil {
		return hostState{}, err
	}
	if err := json.Unmarshal(whole, &base); err != nil {
		return hostState{}, fmt.Errorf("decode host: %w", err)
	}
	for member, dst := range map[string]any{groupsMember: &groups, "parentTemplates": &templates, "macros": &macros} {
		if v, ok := raw[member]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return hostState{}, fmt.Errorf("decode host %s: %s: %w", base.Host, member, err)
			}
		}
	}
	h := hostState{
		ID:          string(base.HostID),
		Host:        base.Host,
		Name:        base.Name,
		Description: base.Description,
		Disabled:    base.Status == "1",
	}
	for _, g := range groups {
		h.Groups = append(h.Groups, g.Name)
	}
	for _, t := range templates {
		h.Templates = append(h.Templates, t.Host)
	}
	for _, m := range macros {
		typ := 0
		switch m.Type {
		case "1":
			typ = 1
		case "2":
			typ = 2
		}
		h.Macros = append(h.Macros, hostMacro{ID: string(m.HostMacroID), Macro: m.Macro, Value: m.Value, Type: typ})
	}
	return h, nil
}

// createHost creates a monitored, trapper-only host: no interface, since Zabbix never polls it.
func (in *installer) createHost(ctx context.Context, spec HostSpec) error {
	params := map[string]any{
		"host":      spec.Host,
		"status":    0,
		"groups":    in.groupRefs(uniq(spec.Groups)),
		"templates": in.templateRefs(uniq(spec.Templates)),
	}
	if spec.VisibleName != "" {
		params["name"] = spec.VisibleName
	}
	if spec.Description != "" {
		params["description"] = spec.Description
	}
	if len(spec.Macros) > 0 {
		var macros []map[string]string
		for _, name := range sortedKeys(spec.Macros) {
			macros = append(macros, map[string]string{"macro": name, "value": spec.Macros[name]})
		}
		params["macros"] = macros
	}
	var res struct {
		HostIDs []flexString `json:"hostids"`
	}
	if err := in.api.Call(ctx, "host.create", params, &res); err != nil {
		return fmt.Errorf("host.create: %w", err)
	}
	if len(res.HostIDs) != 1 {
		return fmt.Errorf("host.create: answered %d ids", len(res.HostIDs))
	}
	in.log.Info("zabbix: created host", "host", spec.Host, "hostid", res.HostIDs[0])
	return nil
}

// updateHost applies a diff: host.update for the name and description, host.massadd for groups
// and templates (which adds without replacing), usermacro.create and usermacro.update for the
// macros.
func (in *installer) updateHost(ctx context.Context, cur hostState, d hostDiff) error {
	var discard json.RawMessage
	if d.Name != nil || d.Description != nil {
		params := map[string]any{"hostid": cur.ID}
		if d.Name != nil {
			params["name"] = *d.Name
		}
		if d.Description != nil {
			params["description"] = *d.Description
		}
		if err := in.api.Call(ctx, "host.update", params, &discard); err != nil {
			return fmt.Errorf("host.update: %w", err)
		}
	}
	if len(d.AddGroups) > 0 || len(d.AddTemplates) > 0 {
		params := map[string]any{"hosts": []map[string]string{{"hostid": cur.ID}}}
		if len(d.AddGroups) > 0 {
			params["groups"] = in.groupRefs(d.AddGroups)
		}
		if len(d.AddTemplates) > 0 {
			params["templates"] = in.templateRefs(d.AddTemplates)
		}
		if err := in.api.Call(ctx, "host.massadd", params, &discard); err != nil {
			return fmt.Errorf("host.massadd: %w", err)
		}
	}
	if len(d.CreateMacros) > 0 {
		var macros []map[string]string
		for _, name := range sortedKeys(d.CreateMacros) {
			macros = append(macros, map[string]string{"hostid": cur.ID, "macro": name, "value": d.CreateMacros[name]})
		}
		if err := in.api.Call(ctx, "usermacro.create", macros, &discard); err != nil {
			return fmt.Errorf("usermacro.create: %w", err)
		}
	}
	if len(d.UpdateMacros) > 0 {
		var macros []map[string]string
		for _, u := range d.UpdateMacros {
			macros = append(macros, map[string]string{"hostmacroid": u.ID, "value": u.Value})
		}
		if err := in.api.Call(ctx, "usermacro.update", macros, &discard); err != nil {
			return fmt.Errorf("usermacro.update: %w", err)
		}
	}
	in.log.Info("zabbix: updated host", "host", cur.Host, "hostid", cur.ID, "changes", d.describe())
	return nil
}

func (in *installer) groupRefs(names []string) []map[string]string {
	out := make([]map[string]string, 0, len(names))
	for _, n := range names {
		out = append(out, map[string]string{"groupid": in.groupIDs[n]})
	}
	return out
}

func (in *installer) templateRefs(names []string) []map[string]string {
	out := make([]map[string]string, 0, len(names))
	for _, n := range names {
		out = append(out, map[string]string{"templateid": in.templateIDs[n]})
	}
	return out
}
