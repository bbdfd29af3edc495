package catalogue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// zeroOnly lists the keys that may be 0 (or empty) at every test clock, each with the reason.
// Keep it short (it is empty today): a measure whose query always returns 0 passes every other
// check, so the fixture must give each key a value other than 0 at one clock at least.
var zeroOnly = map[string]string{}

// provenElsewhere lists the core keys the catalogue sites skip (they need a directory or a
// plugin the sites do not have), with the test that requires a value other than 0 from them.
// Contrib pack keys need no entry: contribtest requires values other than 0 from every pack.
var provenElsewhere = map[string]string{
	"moodle.general.backupsinprogress":    "reads Moodle's data directory: measures/core/general_test.go TestBackupsInProgress",
	"moodle.general.hourlyneedsupgrading": "reads version.php in Moodle's code directory: measures/core/general_test.go TestUpgradePending",
	"moodle.general.upgradespending":      "reads version.php in Moodle's code directory: measures/core/general_test.go TestUpgradePending",
	"moodle.modules.hvp.all":              "needs mod_hvp: TestPluginModulesWhenInstalled",
	"moodle.modules.mplayer.all":          "needs mod_mplayer: TestPluginModulesWhenInstalled",
}

// requireNonZero fails for every measure, prototype and discovery rule of the catalogue that
// sent only zeros (or empty text, or an empty discovery) over all the runs in sent (keys
// "clock/family/key"), and for every entry of zeroOnly that is not, or no longer, zero-only.
func requireNonZero(t *testing.T, sent map[string]string) {
	t.Helper()
	reg := catalogue.Registry()
	seen := map[string]bool{}    // catalogue key -> a value was sent
	nonZero := map[string]bool{} // catalogue key -> a value other than zero was sent
	byKey := map[string]*measures.Measure{}
	var protos []*measures.Measure
	for _, m := range reg.Measures() {
		if m.Discovery == nil {
			byKey[m.Key] = m
		} else {
			protos = append(protos, m)
		}
	}
	rules := map[string]bool{}
	for _, d := range reg.Discoveries() {
		rules[d.Key] = true
	}
	for k, v := range sent {
		key := strings.SplitN(k, "/", 3)[2] // clock/family/key
		owner := ""
		switch {
		case rules[key]:
			owner = key
			var objs []map[string]string
			if json.Unmarshal([]byte(v), &objs) == nil && len(objs) > 0 {
				nonZero[owner] = true
			}
		case byKey[key] != nil:
			owner = key
		default:
			for _, m := range protos {
				if matchesPrototype(m.Key, m.Discovery.IDMacro().Macro, key) {
					owner = m.Key
					break
				}
			}
		}
		if owner == "" {
			continue
		}
		seen[owner] = true
		if !rules[owner] && v != "" && v != "0" {
			nonZero[owner] = true
		}
	}
	var bad []string
	check := func(key string) {
		if !seen[key] {
			m := reg.Lookup(key)
			_, listed := provenElsewhere[key]
			contrib := m != nil && m.TemplateName() != measures.DefaultTemplate && m.TemplateName() != measures.PerformanceTemplate
			if !listed && !contrib {
				bad = append(bad, key+": never sent by the catalogue sites; give the fixture what it needs, or list it in provenElsewhere with the test that proves its values")
			}
			return
		}
		if _, listed := provenElsewhere[key]; listed {
			bad = append(bad, key+": listed in provenElsewhere but sent by the catalogue sites; remove it from the list")
		}
		_, allowed := zeroOnly[key]
		switch {
		case !nonZero[key] && !allowed:
			bad = append(bad, key+": 0 or empty at every test clock; make the fixture give it a value at one clock at least (internal/fixture)")
		case nonZero[key] && allowed:
			bad = append(bad, key+": listed in zeroOnly but has a value; remove it from the list")
		}
	}
	for _, m := range reg.Measures() {
		check(m.Key)
	}
	for k := range rules {
		check(k)
	}
	for k := range zeroOnly {
		if reg.Lookup(k) == nil && !rules[k] {
			bad = append(bad, k+": listed in zeroOnly but not in the catalogue")
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// TestPluginModulesWhenInstalled installs mod_hvp and mod_mplayer on the fixture site (version
// row, modules row, two live course modules and one being deleted each) and requires their
// module counts to be 2: the catalogue sites have neither plugin, so they only see the skip.
func TestPluginModulesWhenInstalled(t *testing.T) {
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	model := fixture.Generate(fixtureSeed, fixture.Tiny, fixtureNow)
	if err := model.Load(ctx, db, fixture.DialectSQLite, "mdl_"); err != nil {
		t.Fatal(err)
	}
	reg := measures.NewRegistry()
	for i, name := range []string{"hvp", "mplayer"} {
		m := catalogue.Registry().Lookup("moodle.modules." + name + ".all")
		if m == nil {
			t.Fatalf("no measure moodle.modules.%s.all", name)
		}
		reg.MustRegister(*m)
		module := int64(100 + i)
		for _, q := range []string{
			fmt.Sprintf("INSERT INTO mdl_config_plugins (plugin, name, value) VALUES ('mod_%s', 'version', '2024010100')", name),
			fmt.Sprintf("INSERT INTO mdl_modules (id, name, search, visible) VALUES (%d, '%s', '', 1)", module, name),
			fmt.Sprintf("INSERT INTO mdl_course_modules (course, module, instance, section, deletioninprogress) VALUES (2, %d, 1, 1, 0)", module),
			fmt.Sprintf("INSERT INTO mdl_course_modules (course, module, instance, section, deletioninprogress) VALUES (3, %d, 2, 1, 0)", module),
			fmt.Sprintf("INSERT INTO mdl_course_modules (course, module, instance, section, deletioninprogress) VALUES (3, %d, 3, 1, 1)", module),
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	runner := &measures.Runner{Registry: reg, Logger: testLogger(t)}
	site := &measures.Site{Name: "fixture", Host: "fixture", DB: db, Dialect: measures.SQLite, Prefix: "mdl_", Location: time.UTC}
	b := runner.Run(ctx, site, measures.Daily, fixtureNow)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range b.Values {
		got[v.Key] = v.Value
	}
	for _, key := range []string{"moodle.modules.hvp.all", "moodle.modules.mplayer.all"} {
		if got[key] != "2" {
			t.Errorf("%s = %q, want 2 (skipped: %v)", key, got[key], b.Skipped)
		}
	}
}
