package provision

import (
	"context"
	"strings"
	"testing"
)

const fakeYAML = "zabbix_export:\n  version: '6.0'\n  templates:\n    - template: Moodle\n    - template: Moodle performance\n    - template: Moodle fleet\n"

const fakeCompareNew = `{"groups":{"added":[{"after":{"name":"Templates/Moodle"}}]},
  "templates":{"added":[{"after":{"template":"Moodle"}},{"after":{"template":"Moodle performance"}},{"after":{"template":"Moodle fleet"}}]}}`

func testPlan() Plan {
	return Plan{
		TemplateYAML: []byte(fakeYAML),
		HostGroups:   []string{"Moodle sites"},
		Hosts: []HostSpec{
			{
				Host: "moodle-main", VisibleName: "Moodle main", Description: "Moodle site",
				Groups: []string{"Moodle sites"}, Templates: []string{"Moodle", "Moodle performance"},
			},
			{
				Host: "moodle-fleet", Groups: []string{"Moodle fleet"}, Templates: []string{"Moodle fleet"},
				Macros: map[string]string{"{$MOODLE.FLEET.GROUP}": "Moodle sites"},
			},
		},
	}
}

func TestInstallFakeFlow(t *testing.T) {
	for _, v := range []string{"6.0.14", "6.2.1"} {
		t.Run(v, func(t *testing.T) { testInstallFakeFlow(t, v) })
	}
}

func testInstallFakeFlow(t *testing.T, version string) {
	ctx := context.Background()
	f := newFakeZabbix()
	f.version = version
	f.compare = fakeCompareNew
	plan := testPlan()

	dry, err := install(ctx, f, plan, Options{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if len(f.writes) != 0 {
		t.Fatalf("dry run wrote: %v", f.writes)
	}
	if !dry.Changed() || !dry.DryRun {
		t.Errorf("dry run report: changed=%v dry=%v", dry.Changed(), dry.DryRun)
	}
	wantDry := []string{
		"host group Moodle sites: would be created",
		"host group Moodle fleet: would be created",
		"template import: 4 changes (groups: 1 added; templates: 3 added), would be imported",
		"host moodle-main: would be created (groups Moodle sites; templates Moodle, Moodle performance)",
		"host moodle-fleet: would be created (groups Moodle fleet; templates Moodle fleet; macros {$MOODLE.FLEET.GROUP})",
	}
	if got := strings.Join(dry.Lines(), "\n"); got != strings.Join(wantDry, "\n") {
		t.Errorf("dry run lines:\n%s\nwant:\n%s", got, strings.Join(wantDry, "\n"))
	}

	first, err := install(ctx, f, plan, Options{})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if !first.Changed() {
		t.Error("first run reports no change")
	}
	main := f.hosts["moodle-main"]
	if main == nil || main.name != "Moodle main" || main.description != "Moodle site" || main.status != "0" {
		t.Fatalf("moodle-main = %+v", main)
	}
	if g, tp := f.groupNames(main), f.templateNames(main); g != "Moodle sites" || tp != "Moodle,Moodle performance" {
		t.Errorf("moodle-main groups %q templates %q", g, tp)
	}
	fleet := f.hosts["moodle-fleet"]
	if fleet == nil || len(fleet.macros) != 1 || fleet.macros[0]["value"] != "Moodle sites" {
		t.Fatalf("moodle-fleet = %+v", fleet)
	}

	f.writes = nil
	second, err := install(ctx, f, plan, Options{})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.Changed() || len(f.writes) != 0 {
		t.Errorf("second run changed something: writes %v\n%s", f.writes, second)
	}
	wantSecond := []string{
		"host group Moodle sites: exists",
		"host group Moodle fleet: exists",
		"template import: 0 changes",
		"host moodle-main: unchanged",
		"host moodle-fleet: unchanged",
	}
	if got := strings.Join(second.Lines(), "\n"); got != strings.Join(wantSecond, "\n") {
		t.Errorf("second run lines:\n%s\nwant:\n%s", got, strings.Join(wantSecond, "\n"))
	}
}

func TestInstallCompletesExistingHost(t *testing.T) {
	ctx := context.Background()
	f := newFakeZabbix()
	f.groups["Moodle sites"] = "20"
	f.groups["Moodle fleet"] = "21"
	f.templates["Moodle"] = "30"
	f.templates["Moodle performance"] = "31"
	f.templates["Moodle fleet"] = "32"
	f.hosts["moodle-main"] = &fakeHost{
		id: "500", host: "moodle-main", name: "Moodle main", description: "Moodle site", status: "0",
		groups: []string{"2"}, templates: []string{"10001", "30"},
		macros: []map[string]string{{"hostmacroid": "70", "macro": "{$KEEP.ME}", "value": "x", "type": "0"}},
	}
	f.hosts["moodle-fleet"] = &fakeHost{
		id: "501", host: "moodle-fleet", name: "moodle-fleet", status: "1",
		groups: []string{"21"}, templates: []string{"32"},
		macros: []map[string]string{{"hostmacroid": "71", "macro": "{$MOODLE.FLEET.GROUP}", "value": "Old", "type": "0"}},
	}
	rep, err := install(ctx, f, testPlan(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	main := f.hosts["moodle-main"]
	if g, tp := f.groupNames(main), f.templateNames(main); g != "Linux servers,Moodle sites" || tp != "Linux by Zabbix agent,Moodle,Moodle performance" {
		t.Errorf("moodle-main groups %q templates %q", g, tp)
	}
	if len(main.macros) != 1 || main.macros[0]["macro"] != "{$KEEP.ME}" {
		t.Errorf("moodle-main macros = %v", main.macros)
	}
	fleet := f.hosts["moodle-fleet"]
	if fleet.macros[0]["value"] != "Moodle sites" || fleet.status != "1" {
		t.Errorf("moodle-fleet = %+v", fleet)
	}
	want := []string{
		"host group Moodle sites: exists",
		"host group Moodle fleet: exists",
		"template import: 0 changes",
		"host moodle-main: updated (+groups Moodle sites; +templates Moodle performance)",
		"host moodle-fleet: updated (macros {$MOODLE.FLEET.GROUP}) (host is disabled in Zabbix: left as is, values will be refused)",
	}
	if got := strings.Join(rep.Lines(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestInstallErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		plan   func(*Plan)
		fake   func(*fakeZabbix)
		dryRun bool
		want   string
	}{
		{
			name: "unknown template",
			plan: func(p *Plan) { p.Hosts[0].Templates = append(p.Hosts[0].Templates, "Nope") },
			want: `host moodle-main: template "Nope" not found in Zabbix`,
		},
		{
			name:   "unknown template in a dry run",
			plan:   func(p *Plan) { p.Hosts[0].Templates = append(p.Hosts[0].Templates, "Nope") },
			dryRun: true,
			want:   `host moodle-main: template "Nope" not found in Zabbix`,
		},
		{
			name: "host without group",
			plan: func(p *Plan) { p.Hosts[1].Groups = nil },
			want: "host moodle-fleet: no host group",
		},
		{
			name: "duplicate host",
			plan: func(p *Plan) { p.Hosts[1].Host = "moodle-main" },
			want: "host moodle-main: listed twice",
		},
		{
			name: "old server",
			fake: func(f *fakeZabbix) { f.version = "5.0.30" },
			want: "zabbix api: apiinfo.version: Zabbix 5.0.30 is too old",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeZabbix()
			f.compare = fakeCompareNew
			if tt.fake != nil {
				tt.fake(f)
			}
			plan := testPlan()
			if tt.plan != nil {
				tt.plan(&plan)
			}
			_, err := install(ctx, f, plan, Options{DryRun: tt.dryRun})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestInstallNilClient(t *testing.T) {
	if _, err := Install(context.Background(), nil, testPlan(), Options{}); err == nil {
		t.Fatal("Install with a nil client succeeded")
	}
	var typedNil *fakeZabbix
	if _, err := Install(context.Background(), typedNil, testPlan(), Options{}); err == nil {
		t.Fatal("Install with a nil *fakeZabbix succeeded")
	}
	if !isNil(typedNil) || isNil(newFakeZabbix()) {
		t.Error("isNil is wrong")
	}
}
