package catalogue_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/catalogue"
)

// nonZeroPrefixes are the key prefixes whose measures must each be non-zero at one test clock
// at least, so that a measure reading the wrong column or window cannot pass as a row of zeros.
var nonZeroPrefixes = []string{"moodle.events.", "moodle.component.", "moodle.cohort."}

// TestLearningMeasuresNonZero runs every family at every test clock on SQLite and checks that
// each event, component and cohort measure is above zero at one of them at least.
func TestLearningMeasuresNonZero(t *testing.T) {
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	model := fixture.Generate(fixtureSeed, fixture.Tiny, fixtureNow)
	if err := model.Load(ctx, db, "sqlite", "mdl_"); err != nil {
		t.Fatal(err)
	}
	reg := catalogue.Registry()
	runner := &measures.Runner{Registry: reg, Logger: testLogger(t)}
	nonZero := map[string]bool{}
	for _, rc := range runClocks() {
		site := &measures.Site{Name: "fixture", Host: "fixture", DB: db, Dialect: measures.SQLite, Prefix: "mdl_",
			Location: rc.loc, Courses: coursesOfInterest}
		for _, fam := range measures.Families {
			b := runner.Run(ctx, site, fam, rc.now)
			for _, v := range b.Values {
				if f, err := strconv.ParseFloat(v.Value, 64); err == nil && f > 0 {
					nonZero[measureOf(reg, v.Key)] = true
				}
			}
		}
	}
	for _, m := range reg.Measures() {
		for _, p := range nonZeroPrefixes {
			if strings.HasPrefix(m.Key, p) && !nonZero[m.Key] {
				t.Errorf("measure %s is 0 at every test clock", m.Key)
			}
		}
	}
}

// measureOf maps a sent key to its measure's key (a prototype's key for a discovered item).
func measureOf(reg *measures.Registry, key string) string {
	if reg.Lookup(key) != nil {
		return key
	}
	for _, m := range reg.Measures() {
		if m.Discovery != nil && matchesPrototype(m.Key, m.Discovery.IDMacro().Macro, key) {
			return m.Key
		}
	}
	return key
}
