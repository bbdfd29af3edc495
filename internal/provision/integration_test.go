package provision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

const fleetMacro = "{$MOODLE.FLEET.GROUP}"

// templateYAML is the import file of the whole catalogue in the format of z's version, as
// install makes it.
func templateYAML(t *testing.T, z *zabbixEnv) []byte {
	t.Helper()
	e, err := templates.Build(catalogue.Registry(), templates.Options{ZabbixVersion: z.env.TestServer.Version})
	if err != nil {
		t.Fatal(err)
	}
	y, err := e.YAML()
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// liveHost is a host as the integration tests read it back.
type liveHost struct {
	HostID      string `json:"hostid"`
	Host        string `json:"host"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Groups      []struct {
		GroupID string `json:"groupid"`
		Name    string `json:"name"`
	} `json:"groups"`
	ParentTemplates []struct {
		TemplateID string `json:"templateid"`
		Host       string `json:"host"`
	} `json:"parentTemplates"`
	Macros []struct {
		HostMacroID string `json:"hostmacroid"`
		Macro       string `json:"macro"`
		Value       string `json:"value"`
	} `json:"macros"`
	Interfaces []json.RawMessage `json:"interfaces"`
}

func (h liveHost) groupNames() []string {
	var out []string
	for _, g := range h.Groups {
		out = append(out, g.Name)
	}
	slices.Sort(out)
	return out
}

func (h liveHost) templateNames() []string {
	var out []string
	for _, t := range h.ParentTemplates {
		out = append(out, t.Host)
	}
	slices.Sort(out)
	return out
}

func (h liveHost) macro(name string) (id, value string, ok bool) {
	for _, m := range h.Macros {
		if m.Macro == name {
			return m.HostMacroID, m.Value, true
		}
	}
	return "", "", false
}

func getHosts(t *testing.T, api caller, names ...string) map[string]liveHost {
	t.Helper()
	var hosts []liveHost
	err := api.Call(context.Background(), "host.get", map[string]any{
		"output":                []string{"hostid", "host", "name", "description", "status"},
		"filter":                map[string]any{"host": names},
		"selectGroups":          []string{"groupid", "name"},
		"selectParentTemplates": []string{"templateid", "host"},
		"selectMacros":          []string{"hostmacroid", "macro", "value"},
		"selectInterfaces":      []string{"interfaceid"},
	}, &hosts)
	if err != nil {
		t.Fatalf("host.get: %v", err)
	}
	out := map[string]liveHost{}
	for _, h := range hosts {
		out[h.Host] = h
	}
	return out
}

func getGroupIDs(t *testing.T, api caller, names ...string) map[string]string {
	t.Helper()
	var groups []struct {
		GroupID string `json:"groupid"`
		Name    string `json:"name"`
	}
	err := api.Call(context.Background(), "hostgroup.get", map[string]any{
		"output": []string{"groupid", "name"},
		"filter": map[string]any{"name": names},
	}, &groups)
	if err != nil {
		t.Fatalf("hostgroup.get: %v", err)
	}
	out := map[string]string{}
	for _, g := range groups {
		out[g.Name] = g.GroupID
	}
	return out
}

// cleanupZabbix deletes the named hosts, then the named host groups, whatever state a failed
// test left them in. Templates stay: they are shared and re-imported idempotently.
func cleanupZabbix(t *testing.T, api caller, hosts, groups []string) {
	t.Cleanup(func() {
		ctx := context.Background()
		var raw json.RawMessage
		var ids []string
		for _, h := range getHosts(t, api, hosts...) {
			ids = append(ids, h.HostID)
		}
		if len(ids) > 0 {
			if err := api.Call(ctx, "host.delete", ids, &raw); err != nil {
				t.Errorf("cleanup host.delete: %v", err)
			}
		}
		ids = nil
		for _, id := range getGroupIDs(t, api, groups...) {
			ids = append(ids, id)
		}
		if len(ids) > 0 {
			if err := api.Call(ctx, "hostgroup.delete", ids, &raw); err != nil {
				t.Errorf("cleanup hostgroup.delete: %v", err)
			}
		}
	})
}

func mustCall(t *testing.T, api caller, method string, params any) {
	t.Helper()
	var raw json.RawMessage
	if err := api.Call(context.Background(), method, params, &raw); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

func TestInstallIntegration(t *testing.T) { eachZabbix(t, testInstallIntegration) }

func testInstallIntegration(t *testing.T, z *zabbixEnv) {
	ctx := context.Background()
	sites, fleetGroup, foreignGroup := uniqueName("mz sites"), uniqueName("mz fleet"), uniqueName("mz foreign")
	siteHost, fleetHost := uniqueName("mz-site"), uniqueName("mz-fleet")
	cleanupZabbix(t, z.API, []string{siteHost, fleetHost}, []string{sites, fleetGroup, foreignGroup})

	plan := Plan{
		TemplateYAML: templateYAML(t, z),
		HostGroups:   []string{sites},
		Hosts: []HostSpec{
			{
				Host: siteHost, VisibleName: "Moodle " + siteHost, Description: "Moodle site for a provision test.",
				Groups: []string{sites}, Templates: []string{"Moodle", "Moodle performance"},
			},
			{
				Host: fleetHost, Groups: []string{fleetGroup}, Templates: []string{"Moodle fleet"},
				Macros: map[string]string{fleetMacro: sites},
			},
		},
	}
	run := func(name string, opts Options) Report {
		t.Helper()
		start := time.Now()
		r, err := Install(ctx, z.API, plan, opts)
		t.Logf("%s (%s):\n%s", name, time.Since(start).Round(time.Millisecond), r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}

	// A dry run on a fresh plan reports changes and writes nothing.
	dry := run("dry run", Options{DryRun: true})
	if !dry.Changed() || !strings.Contains(dry.String(), "host "+siteHost+": would be created") {
		t.Errorf("dry run does not announce the new host")
	}
	if h := getHosts(t, z.API, siteHost, fleetHost); len(h) != 0 {
		t.Fatalf("dry run created hosts: %v", h)
	}
	if g := getGroupIDs(t, z.API, sites, fleetGroup); len(g) != 0 {
		t.Fatalf("dry run created groups: %v", g)
	}

	first := run("first run", Options{})
	if !first.Changed() {
		t.Error("first run reports no change")
	}
	hosts := getHosts(t, z.API, siteHost, fleetHost)
	site, fleet := hosts[siteHost], hosts[fleetHost]
	if site.Name != "Moodle "+siteHost || site.Description != "Moodle site for a provision test." || site.Status != "0" {
		t.Errorf("site host = %+v", site)
	}
	if got := site.groupNames(); !slices.Equal(got, []string{sites}) {
		t.Errorf("site groups = %v", got)
	}
	if got := site.templateNames(); !slices.Equal(got, []string{"Moodle", "Moodle performance"}) {
		t.Errorf("site templates = %v", got)
	}
	if len(site.Interfaces) != 0 {
		t.Errorf("site host has %d interfaces, want none (trapper only)", len(site.Interfaces))
	}
	if _, v, ok := fleet.macro(fleetMacro); !ok || v != sites {
		t.Errorf("fleet macro = %q, %v", v, ok)
	}
	if got := fleet.templateNames(); !slices.Equal(got, []string{"Moodle fleet"}) {
		t.Errorf("fleet templates = %v", got)
	}

	second := run("second run", Options{})
	assertNoChange(t, second)

	// Drift made by hand: a template unlinked, our macro changed, a foreign macro and a foreign
	// group added. Install restores ours and keeps theirs.
	var created struct {
		GroupIDs []string `json:"groupids"`
	}
	if err := z.API.Call(ctx, "hostgroup.create", map[string]any{"name": foreignGroup}, &created); err != nil {
		t.Fatal(err)
	}
	perf := ""
	for _, tp := range site.ParentTemplates {
		if tp.Host == "Moodle performance" {
			perf = tp.TemplateID
		}
	}
	mustCall(t, z.API, "host.massremove", map[string]any{"hostids": []string{site.HostID}, "templateids_clear": []string{perf}})
	mustCall(t, z.API, "host.massadd", map[string]any{"hosts": []map[string]string{{"hostid": site.HostID}}, "groups": []map[string]string{{"groupid": created.GroupIDs[0]}}})
	macroID, _, _ := fleet.macro(fleetMacro)
	mustCall(t, z.API, "usermacro.update", map[string]any{"hostmacroid": macroID, "value": "drifted"})
	mustCall(t, z.API, "usermacro.create", map[string]any{"hostid": fleet.HostID, "macro": "{$MZ.FOREIGN}", "value": "keep"})

	third := run("after drift", Options{})
	want := map[string]string{
		"host " + siteHost:  "updated (+templates Moodle performance)",
		"host " + fleetHost: "updated (macros " + fleetMacro + ")",
	}
	for _, s := range third.Steps {
		if w, ok := want[s.Object]; ok && (s.Detail != w || !s.Changed) {
			t.Errorf("%s: %q, want %q", s.Object, s.Detail, w)
		}
	}
	hosts = getHosts(t, z.API, siteHost, fleetHost)
	if got := hosts[siteHost].groupNames(); !slices.Equal(got, sortedCopy(sites, foreignGroup)) {
		t.Errorf("site groups after drift = %v", got)
	}
	if got := hosts[siteHost].templateNames(); !slices.Equal(got, []string{"Moodle", "Moodle performance"}) {
		t.Errorf("site templates after drift = %v", got)
	}
	if _, v, _ := hosts[fleetHost].macro(fleetMacro); v != sites {
		t.Errorf("fleet macro after drift = %q, want %q", v, sites)
	}
	if _, v, ok := hosts[fleetHost].macro("{$MZ.FOREIGN}"); !ok || v != "keep" {
		t.Errorf("foreign macro = %q, %v; want kept", v, ok)
	}

	assertNoChange(t, run("fourth run", Options{}))
}

func sortedCopy(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func assertNoChange(t *testing.T, r Report) {
	t.Helper()
	if r.Changed() {
		t.Errorf("run reports changes:\n%s", r)
	}
	for _, s := range r.Steps {
		if s.Detail != "exists" && s.Detail != "unchanged" && s.Detail != "0 changes" {
			t.Errorf("step %q", s)
		}
	}
}

// installSite provisions one site host in a new group and waits until the trapper accepts its
// values.
func installSite(t *testing.T, z *zabbixEnv, snd *sender.Client) string {
	t.Helper()
	ctx := context.Background()
	group, host := uniqueName("mz check"), uniqueName("mz-check")
	cleanupZabbix(t, z.API, []string{host}, []string{group})
	plan := Plan{
		TemplateYAML: templateYAML(t, z),
		Hosts:        []HostSpec{{Host: host, Groups: []string{group}, Templates: []string{"Moodle", "Moodle performance"}}},
	}
	if _, err := Install(ctx, z.API, plan, Options{}); err != nil {
		t.Fatal(err)
	}
	// The trapper knows a new host only after a configuration cache update.
	z.reloadConfigCache(t)
	waitFor(t, 90*time.Second, "the trapper to accept values for "+host, func() bool {
		res, _ := snd.Send(ctx, []sender.Item{{Host: host, Key: CanaryKey, Value: "1"}})
		return res.Processed == 1
	})
	return host
}

func TestCheckIntegration(t *testing.T) { eachZabbix(t, testCheckIntegration) }

func testCheckIntegration(t *testing.T, z *zabbixEnv) {
	ctx := context.Background()
	snd := senderTo(t, z.Server)
	start := time.Now()
	host := installSite(t, z, snd)
	t.Logf("install and cache reload: %s", time.Since(start).Round(time.Millisecond))
	db := moodleDB(t)

	var out strings.Builder
	start = time.Now()
	err := Check(ctx, CheckInput{DB: db, Dialect: measures.SQLite, Prefix: "mdl_", Host: host, Sender: snd, API: z.API}, &out)
	t.Logf("check (%s):\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	wantPrefixes := []string{"ok   database: ", "ok   trapper " + z.Server + ": ", "ok   host " + host + ": monitored, ", "ok   canary ", "ok   read-back: "}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("got %d lines, want %d", len(lines), len(wantPrefixes))
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], p)
		}
	}

	// A host Zabbix does not know fails at the host step with the API, and at the canary
	// without it.
	for _, api := range []Caller{z.API, nil, (*zabbixapi.Client)(nil)} {
		out.Reset()
		err = Check(ctx, CheckInput{DB: db, Dialect: measures.SQLite, Prefix: "mdl_", Host: host + "-unknown", Sender: snd, API: api}, &out)
		want := "host"
		if isNil(api) {
			want = "canary"
		}
		var ce *CheckError
		if !errors.As(err, &ce) || ce.Step != want {
			t.Errorf("unknown host (API %T): error %v, want step %s\n%s", api, err, want, out.String())
		}
	}
}

func TestCheckIntegrationWrongDatabase(t *testing.T) {
	eachZabbix(t, testCheckIntegrationWrongDatabase)
}

func testCheckIntegrationWrongDatabase(t *testing.T, z *zabbixEnv) {
	var out strings.Builder
	err := Check(context.Background(), CheckInput{
		DB: emptyDB(t), Dialect: measures.SQLite, Prefix: "mdl_", Host: "mz-none",
		Sender: senderTo(t, z.Server), API: z.API,
	}, &out)
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Step != "database" || !strings.Contains(err.Error(), "table mdl_config not found") {
		t.Fatalf("error = %v, want the database step naming mdl_config", err)
	}
	if got := out.String(); got != "FAIL database: not a Moodle database (table mdl_config not found)\n" {
		t.Errorf("output = %q", got)
	}
}

// newUUID returns a random UUIDv4 in Zabbix's form: 32 lowercase hex digits.
func newUUID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b)
}

// TestInstallImportIntegration imports a template of its own, so that the import path (compare
// shows changes, import, compare shows none) runs even when the shared Moodle templates are
// already in place.
func TestInstallImportIntegration(t *testing.T) { eachZabbix(t, testInstallImportIntegration) }

func testInstallImportIntegration(t *testing.T, z *zabbixEnv) {
	ctx := context.Background()
	tpl, group, host := uniqueName("mz test template"), uniqueName("mz import"), uniqueName("mz-import")
	cleanupZabbix(t, z.API, []string{host}, []string{group})
	t.Cleanup(func() {
		var found []struct {
			TemplateID string `json:"templateid"`
		}
		if err := z.API.Call(ctx, "template.get", map[string]any{"output": []string{"templateid"}, "filter": map[string]any{"host": []string{tpl}}}, &found); err != nil {
			t.Errorf("cleanup template.get: %v", err)
		}
		for _, f := range found {
			var raw json.RawMessage
			if err := z.API.Call(ctx, "template.delete", []string{f.TemplateID}, &raw); err != nil {
				t.Errorf("cleanup template.delete: %v", err)
			}
		}
	})
	src := fmt.Sprintf(`zabbix_export:
  version: '6.0'
  groups:
    - uuid: %s
      name: Templates/Moodle tests
  templates:
    - uuid: %s
      template: %q
      name: %q
      groups:
        - name: Templates/Moodle tests
      items:
        - uuid: %s
          name: 'Test value'
          type: TRAP
          key: moodle.test.value
          delay: '0'
          description: 'A trapper item of a provision test.'
          tags:
            - tag: source
              value: moodle-zabbix
`, templates.UUID("Templates/Moodle tests"), newUUID(t), tpl, tpl, newUUID(t))
	plan := Plan{
		TemplateYAML: []byte(src),
		Hosts:        []HostSpec{{Host: host, Groups: []string{group}, Templates: []string{tpl}}},
	}
	steps := func(r Report) map[string]Step {
		out := map[string]Step{}
		for _, s := range r.Steps {
			out[s.Object] = s
		}
		return out
	}

	dry, err := Install(ctx, z.API, plan, Options{DryRun: true})
	t.Logf("dry run:\n%s", dry)
	if err != nil {
		t.Fatal(err)
	}
	if s := steps(dry)["template import"]; !s.Changed || !strings.Contains(s.Detail, "templates: 1 added") || !strings.HasSuffix(s.Detail, "would be imported") {
		t.Errorf("dry run template import: %q", s.Detail)
	}
	if s := steps(dry)["host "+host]; !strings.HasPrefix(s.Detail, "would be created") {
		t.Errorf("dry run host: %q", s.Detail)
	}

	first, err := Install(ctx, z.API, plan, Options{})
	t.Logf("first run:\n%s", first)
	if err != nil {
		t.Fatal(err)
	}
	if s := steps(first)["template import"]; !s.Changed || !strings.HasSuffix(s.Detail, ", imported") {
		t.Errorf("first run template import: %q", s.Detail)
	}
	if got := getHosts(t, z.API, host)[host].templateNames(); !slices.Equal(got, []string{tpl}) {
		t.Errorf("host templates = %v", got)
	}

	second, err := Install(ctx, z.API, plan, Options{})
	t.Logf("second run:\n%s", second)
	if err != nil {
		t.Fatal(err)
	}
	assertNoChange(t, second)
}
