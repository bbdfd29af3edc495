package catalogue_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// allowedKeyMacros are the only entities a key may be segmented by: categories, authentication
// plugins, courses, cohorts and components. Never users.
var allowedKeyMacros = map[string]bool{"{#CATID}": true, "{#AUTH}": true, "{#COURSEID}": true, "{#COHORTID}": true, "{#COMPONENT}": true}

var emailLike = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

// TestNoPersonalData runs every family over the fixture and checks that no key or value carries
// anything that identifies a person: no user name, real name, e-mail or user id number, and no
// key segmented by anything but a category, an authentication plugin or a course.
func TestNoPersonalData(t *testing.T) {
	reg := catalogue.Registry()
	for _, m := range reg.Measures() {
		for _, mac := range regexp.MustCompile(`\{#[A-Z0-9_.]+\}`).FindAllString(m.Key, -1) {
			if !allowedKeyMacros[mac] {
				t.Errorf("measure %s: key segmented by %s, which is not an allowed entity", m.Key, mac)
			}
		}
		if strings.Contains(strings.ToLower(m.Key), "userid") {
			t.Errorf("measure %s: key names a user id", m.Key)
		}
	}
	for _, d := range reg.Discoveries() {
		for _, mac := range d.Macros {
			if strings.Contains(mac.Macro, "USER") || strings.Contains(mac.Macro, "EMAIL") {
				t.Errorf("discovery %s: macro %s describes a person", d.Key, mac.Macro)
			}
		}
	}

	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	model := fixture.Generate(fixtureSeed, fixture.Tiny, fixtureNow)
	ctx := context.Background()
	if err := model.Load(ctx, db, "sqlite", "mdl_"); err != nil {
		t.Fatal(err)
	}
	var personal []string
	for _, u := range model.Users {
		for _, s := range []string{u.Username, u.Email, u.FirstName, u.LastName, u.IDNumber} {
			if len(s) >= 4 {
				personal = append(personal, strings.ToLower(s))
			}
		}
	}
	runner := &measures.Runner{Registry: reg, Logger: testLogger(t)}
	site := &measures.Site{Name: "fixture", Host: "fixture", DB: db, Dialect: measures.SQLite, Prefix: "mdl_", Courses: coursesOfInterest}
	sent := 0
	for _, fam := range measures.Families {
		b := runner.Run(ctx, site, fam, fixtureNow)
		for _, v := range b.Values {
			sent++
			// Keys are checked by shape above (their only entities are categories, plugins and
			// courses); here the values are searched for anything a person is known by.
			text := strings.ToLower(v.Value)
			if v.Discovery {
				continue // checked through the macros above
			}
			if emailLike.MatchString(text) {
				t.Errorf("%s: an e-mail address in %q", v.Key, v.Value)
			}
			for _, p := range personal {
				if strings.Contains(text, p) {
					t.Errorf("%s: value %q contains personal data %q", v.Key, v.Value, p)
				}
			}
		}
	}
	if sent == 0 {
		t.Fatal("no value was produced, so nothing was checked")
	}
}
