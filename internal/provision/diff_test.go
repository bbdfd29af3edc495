package provision

import (
	"reflect"
	"testing"
)

func strp(s string) *string { return &s }

func TestDiffHost(t *testing.T) {
	site := HostSpec{
		Host:        "moodle-main",
		VisibleName: "Moodle main site",
		Groups:      []string{"Moodle sites"},
		Templates:   []string{"Moodle", "Moodle performance"},
		Description: "Moodle at https://moodle.example.org",
	}
	fleet := HostSpec{
		Host:      "moodle-fleet",
		Groups:    []string{"Moodle fleet"},
		Templates: []string{"Moodle fleet"},
		Macros:    map[string]string{"{$MOODLE.FLEET.GROUP}": "Moodle sites"},
	}
	matching := hostState{
		ID: "10500", Host: "moodle-main", Name: "Moodle main site",
		Description: "Moodle at https://moodle.example.org",
		Groups:      []string{"Moodle sites"},
		Templates:   []string{"Moodle", "Moodle performance"},
	}
	tests := []struct {
		name string
		cur  hostState
		spec HostSpec
		want hostDiff
	}{
		{
			name: "identical",
			cur:  matching,
			spec: site,
			want: hostDiff{},
		},
		{
			name: "extra groups templates and macros of others are left alone",
			cur: hostState{
				ID: "10500", Host: "moodle-main", Name: "Moodle main site",
				Description: "Moodle at https://moodle.example.org",
				Groups:      []string{"Linux servers", "Moodle sites"},
				Templates:   []string{"Linux by Zabbix agent", "Moodle performance", "Moodle"},
				Macros:      []hostMacro{{ID: "7", Macro: "{$OTHER}", Value: "x"}},
			},
			spec: site,
			want: hostDiff{},
		},
		{
			name: "missing group and template are added, nothing removed",
			cur: hostState{
				ID: "10500", Host: "moodle-main", Name: "Moodle main site",
				Description: "Moodle at https://moodle.example.org",
				Groups:      []string{"Linux servers"},
				Templates:   []string{"Moodle", "ICMP Ping"},
			},
			spec: site,
			want: hostDiff{AddGroups: []string{"Moodle sites"}, AddTemplates: []string{"Moodle performance"}},
		},
		{
			name: "visible name and description differ",
			cur: hostState{
				ID: "10500", Host: "moodle-main", Name: "moodle-main", Description: "old",
				Groups: []string{"Moodle sites"}, Templates: []string{"Moodle", "Moodle performance"},
			},
			spec: site,
			want: hostDiff{Name: strp("Moodle main site"), Description: strp("Moodle at https://moodle.example.org")},
		},
		{
			name: "empty visible name and description are not managed",
			cur: hostState{
				ID: "10500", Host: "moodle-main", Name: "Set by hand", Description: "by hand",
				Groups: []string{"Moodle sites"}, Templates: []string{"Moodle", "Moodle performance"},
			},
			spec: HostSpec{Host: "moodle-main", Groups: []string{"Moodle sites"}, Templates: []string{"Moodle", "Moodle performance"}},
			want: hostDiff{},
		},
		{
			name: "macro missing is created",
			cur:  hostState{ID: "1", Host: "moodle-fleet", Name: "moodle-fleet", Groups: []string{"Moodle fleet"}, Templates: []string{"Moodle fleet"}},
			spec: fleet,
			want: hostDiff{CreateMacros: map[string]string{"{$MOODLE.FLEET.GROUP}": "Moodle sites"}},
		},
		{
			name: "macro with another value is updated in place, other macros kept",
			cur: hostState{
				ID: "1", Host: "moodle-fleet", Name: "moodle-fleet", Groups: []string{"Moodle fleet"}, Templates: []string{"Moodle fleet"},
				Macros: []hostMacro{
					{ID: "31", Macro: "{$MOODLE.FLEET.GROUP}", Value: "Old group"},
					{ID: "32", Macro: "{$SITE.OWNER.TEAM}", Value: "web"},
				},
			},
			spec: fleet,
			want: hostDiff{UpdateMacros: []macroUpdate{{ID: "31", Macro: "{$MOODLE.FLEET.GROUP}", Value: "Moodle sites"}}},
		},
		{
			name: "macro with the same value is unchanged",
			cur: hostState{
				ID: "1", Host: "moodle-fleet", Name: "moodle-fleet", Groups: []string{"Moodle fleet"}, Templates: []string{"Moodle fleet"},
				Macros: []hostMacro{{ID: "31", Macro: "{$MOODLE.FLEET.GROUP}", Value: "Moodle sites"}},
			},
			spec: fleet,
			want: hostDiff{},
		},
		{
			name: "secret macro is never overwritten",
			cur: hostState{
				ID: "1", Host: "moodle-fleet", Name: "moodle-fleet", Groups: []string{"Moodle fleet"}, Templates: []string{"Moodle fleet"},
				Macros: []hostMacro{{ID: "31", Macro: "{$MOODLE.FLEET.GROUP}", Type: 1}},
			},
			spec: fleet,
			want: hostDiff{Notes: []string{"macro {$MOODLE.FLEET.GROUP} is a secret: left as is"}},
		},
		{
			name: "disabled host keeps its status, with a note",
			cur:  hostState{ID: "1", Host: "moodle-main", Name: "Moodle main site", Description: site.Description, Disabled: true, Groups: site.Groups, Templates: site.Templates},
			spec: site,
			want: hostDiff{Notes: []string{"host is disabled in Zabbix: left as is, values will be refused"}},
		},
		{
			name: "duplicates in the spec count once",
			cur:  hostState{ID: "1", Host: "moodle-main", Name: "moodle-main"},
			spec: HostSpec{Host: "moodle-main", Groups: []string{"A", "A", ""}, Templates: []string{"Moodle", "Moodle"}},
			want: hostDiff{AddGroups: []string{"A"}, AddTemplates: []string{"Moodle"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffHost(tt.cur, tt.spec)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diffHost:\n got %#v\nwant %#v", got, tt.want)
			}
			wantEmpty := tt.want.Name == nil && tt.want.Description == nil && tt.want.AddGroups == nil &&
				tt.want.AddTemplates == nil && tt.want.CreateMacros == nil && tt.want.UpdateMacros == nil
			if got.empty() != wantEmpty {
				t.Errorf("empty() = %v, want %v", got.empty(), wantEmpty)
			}
		})
	}
}

func TestHostDiffDescribe(t *testing.T) {
	d := hostDiff{
		Name:         strp("Main"),
		Description:  strp("secret-looking description"),
		AddGroups:    []string{"Moodle sites", "Web"},
		AddTemplates: []string{"Moodle performance"},
		CreateMacros: map[string]string{"{$B}": "value-b"},
		UpdateMacros: []macroUpdate{{ID: "1", Macro: "{$A}", Value: "value-a"}},
	}
	got := d.describe()
	want := `visible name "Main"; description; +groups Moodle sites, Web; +templates Moodle performance; macros {$A}, {$B}`
	if got != want {
		t.Errorf("describe() = %q, want %q", got, want)
	}
}

func TestDescribeCreate(t *testing.T) {
	got := describeCreate(HostSpec{
		Host: "f", Groups: []string{"Moodle fleet"}, Templates: []string{"Moodle fleet"},
		Macros: map[string]string{"{$MOODLE.FLEET.GROUP}": "Moodle sites"},
	})
	want := "groups Moodle fleet; templates Moodle fleet; macros {$MOODLE.FLEET.GROUP}"
	if got != want {
		t.Errorf("describeCreate() = %q, want %q", got, want)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in           string
		major, minor int
		ok           bool
	}{
		{"6.0.14", 6, 0, true},
		{"6.2.0", 6, 2, true},
		{"7.0.0rc1", 7, 0, true},
		{" 6.4.9 ", 6, 4, true},
		{"6", 0, 0, false},
		{"x.y", 0, 0, false},
	}
	for _, tt := range tests {
		v, err := parseVersion(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseVersion(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (v.Major != tt.major || v.Minor != tt.minor) {
			t.Errorf("parseVersion(%q) = %d.%d, want %d.%d", tt.in, v.Major, v.Minor, tt.major, tt.minor)
		}
	}
}

func TestImportRulesByVersion(t *testing.T) {
	r60 := importRules(apiVersion{Major: 6, Minor: 0})
	if _, ok := r60["groups"]; !ok {
		t.Error("6.0 rules lack groups")
	}
	if _, ok := r60["template_groups"]; ok {
		t.Error("6.0 rules carry template_groups, which 6.0 rejects")
	}
	r62 := importRules(apiVersion{Major: 6, Minor: 2})
	if _, ok := r62["groups"]; ok {
		t.Error("6.2 rules carry groups")
	}
	if _, ok := r62["template_groups"]; !ok {
		t.Error("6.2 rules lack template_groups")
	}
	for _, r := range []map[string]any{r60, r62} {
		for name, v := range r {
			if m, ok := v.(map[string]bool); ok && m["deleteMissing"] {
				t.Errorf("rule %s deletes missing objects", name)
			}
		}
	}
}
