package catalogue_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// segmentPopulations computes, independently of the queries, the population of every entity
// of every discovery rule: the people its values are about.
var segmentPopulations = map[string]func(x *X) map[string]float64{
	"moodle.discovery.topcategories": func(x *X) map[string]float64 {
		out := map[string]float64{}
		for _, t := range topCategoriesOf(x) {
			out[itoa(t.ID)] = float64(enrolledIn(x, coursesUnderCategory(x, t)))
		}
		return out
	},
	"moodle.discovery.courses": func(x *X) map[string]float64 {
		out := map[string]float64{}
		for _, c := range selectedCourses(x) {
			out[itoa(c.ID)] = float64(enrolledIn(x, map[int64]bool{c.ID: true}))
		}
		return out
	},
	"moodle.discovery.auth": func(x *X) map[string]float64 {
		out := map[string]float64{}
		for _, u := range x.M.Users {
			if u.Deleted == 0 {
				out[u.Auth]++
			}
		}
		return out
	},
	"moodle.discovery.cohorts": func(x *X) map[string]float64 {
		out := map[string]float64{}
		for id, ms := range cohortMembers(x) {
			out[itoa(id)] = float64(len(ms))
		}
		return out
	},
	"moodle.discovery.components": func(x *X) map[string]float64 {
		_, users := componentStats(x)
		out := map[string]float64{}
		for c, n := range users {
			out[c] = float64(n)
		}
		return out
	},
}

// TestNoSmallSegment runs every family at every test clock with the default k-threshold and
// checks that no entity of any discovery rule with fewer than k people is discovered, and that
// every rule declares the population it is governed by. It fails if the fixture stops having a
// small segment to suppress, so that it keeps proving something.
func TestNoSmallSegment(t *testing.T) {
	reg := catalogue.Registry()
	for _, d := range reg.Discoveries() {
		if d.Population == "" {
			t.Errorf("discovery %s declares no population: the k-threshold cannot govern it", d.Key)
		}
		if segmentPopulations[d.Key] == nil {
			t.Errorf("discovery %s has no independent population in privacy_segments_test.go", d.Key)
		}
	}
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
	runner := &measures.Runner{Registry: reg, Logger: testLogger(t)}
	small := map[string]bool{}
	for _, rc := range runClocks() {
		site := &measures.Site{Name: "fixture", Host: "fixture", DB: db, Dialect: measures.SQLite, Prefix: "mdl_",
			Location: rc.loc, Courses: coursesOfInterest}
		for _, fam := range measures.Families {
			b := runner.Run(ctx, site, fam, rc.now)
			x := &X{M: model, P: measures.Params{Window: b.Window, Now: rc.now, Courses: coursesOfInterest},
				From: b.Window.From.Unix(), To: b.Window.To.Unix(), Now: rc.now.Unix()}
			for _, v := range b.Values {
				d := discoveryOf(reg, v.Key)
				if d == nil || segmentPopulations[d.Key] == nil {
					continue
				}
				pops := segmentPopulations[d.Key](x)
				for _, pop := range pops {
					if pop < measures.DefaultKThreshold {
						small[d.Key] = true
					}
				}
				var objs []map[string]string
				if err := json.Unmarshal([]byte(v.Value), &objs); err != nil {
					t.Fatalf("%s: %v", v.Key, err)
				}
				for _, o := range objs {
					id := o[d.IDMacro().Macro]
					if id == measures.OtherID {
						continue
					}
					if pops[id] < measures.DefaultKThreshold {
						t.Errorf("%s %s: %s=%s discovered with %v people, below k=%d", rc.name, fam, d.Key, id, pops[id], measures.DefaultKThreshold)
					}
				}
			}
		}
	}
	for _, rule := range []string{"moodle.discovery.cohorts", "moodle.discovery.components", "moodle.discovery.auth"} {
		if !small[rule] {
			t.Errorf("the fixture has no entity of %s below k: this test would prove nothing for it", rule)
		}
	}
}

// discoveryOf returns the rule whose LLD key is key, or nil.
func discoveryOf(reg *measures.Registry, key string) *measures.Discovery {
	for _, d := range reg.Discoveries() {
		if d.Key == key {
			return d
		}
	}
	return nil
}
