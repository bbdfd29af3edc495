package catalogue_test

import (
	"context"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// TestCategoryDepth runs the daily family with categories discovered down to depth 2 and
// compares every value with the expectations, which then cover subcategories too.
func TestCategoryDepth(t *testing.T) {
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
	rc := runClocks()[0]
	site := &measures.Site{Name: "fixture", Host: "fixture", DB: db, Dialect: measures.SQLite, Prefix: "mdl_",
		Location: rc.loc, Courses: coursesOfInterest, Previous: previousRun, Caps: testCaps, CategoryDepth: 2}
	b := (&measures.Runner{Registry: reg, Logger: testLogger(t)}).Run(ctx, site, measures.Daily, rc.now)
	for _, f := range b.Failures {
		t.Errorf("failure: %v", f)
	}
	x := &X{M: model, P: measures.Params{Window: b.Window, Now: rc.now, Roles: measures.DefaultRoles(), Courses: coursesOfInterest, CategoryDepth: 2},
		From: b.Window.From.Unix(), To: b.Window.To.Unix(), Now: rc.now.Unix()}
	if n := len(topCategorySegs(x).kept); n <= len(model.TopCategories()) {
		t.Fatalf("%d categories reported down to depth 2, want more than the %d top-level ones", n, len(model.TopCategories()))
	}
	compareBurst(t, reg, measures.Daily, b, x)
}
