package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
)

// Every site runs the deployment's file; only "main" runs its own.
const (
	deploymentMeasures = `measures:
  - key: moodle.custom.coursecount
    name: Courses (custom)
    description: Courses of the site, the front page left out.
    family: daily
    units: courses
    aggregate: sum
    sql: SELECT COUNT(*) AS value FROM {course} WHERE category > 0
`
	mainMeasures = `template: Moodle main extras
measures:
  - key: moodle.custom.newusers
    name: Accounts created (custom)
    description: User accounts created during the day.
    family: daily
    units: users
    sql: SELECT COUNT(*) AS value FROM {user} WHERE timecreated >= ? AND timecreated < ?
    args: [from, to]
`
)

// customConfig writes a configuration with two sites on one SQLite file, a deployment-wide
// custom measure file and one for the site "main".
func customConfig(t *testing.T, mainFile string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"all.yaml": deploymentMeasures, "main.yaml": mainFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dsn := testSite(t, time.Now())
	cfg := `zabbix:
  servers: ["127.0.0.1:1"]
  spool: {dir: ` + filepath.Join(dir, "spool") + `}
custom_measures: [all.yaml]
sites:
  - {name: main, host: moodle-main, driver: sqlite, dsn: "` + dsn + `", custom_measures: [main.yaml]}
  - {name: other, host: moodle-other, driver: sqlite, dsn: "` + dsn + `"}
`
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCustomMeasuresRunPerSite(t *testing.T) {
	cfg := customConfig(t, mainMeasures)
	code, out, errs := runCLI(t, "run", "--family", "daily", "--dry-run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	sites := map[string]string{}
	current := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(l, " ") {
			current = f[0]
		}
		sites[current] += l + "\n"
	}
	for site, want := range map[string][]bool{"main": {true, true}, "other": {true, false}} {
		got := []bool{strings.Contains(sites[site], "moodle.custom.coursecount "), strings.Contains(sites[site], "moodle.custom.newusers ")}
		if !slices.Equal(got, want) {
			t.Errorf("site %s sends coursecount, newusers = %v, want %v:\n%s", site, got, want, sites[site])
		}
	}
}

func TestCustomMeasuresListedAndTemplated(t *testing.T) {
	cfg := customConfig(t, mainMeasures)
	code, out, errs := runCLI(t, "measures", "--config", cfg)
	if code != ExitOK || !strings.Contains(out, "moodle.custom.coursecount") || !strings.Contains(out, "moodle.custom.newusers") {
		t.Fatalf("measures: exit %d\n%s\n%s", code, out, errs)
	}
	if _, out, _ := runCLI(t, "measures"); strings.Contains(out, "moodle.custom.") {
		t.Error("measures without --config lists custom measures")
	}
	code, out, errs = runCLI(t, "templates", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("templates: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"template: Moodle custom", "template: Moodle main extras", "key: moodle.custom.coursecount", "key: moodle.custom.newusers"} {
		if !strings.Contains(out, want) {
			t.Errorf("templates output lacks %q", want)
		}
	}

	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalogues(c, catalogue.Registry())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := InstallPlan(withCustomTemplates(c, cat), cat.All, "6.0")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"moodle-main":  {"Moodle", "Moodle performance", "Moodle custom", "Moodle main extras"},
		"moodle-other": {"Moodle", "Moodle performance", "Moodle custom"},
	}
	for _, h := range plan.Hosts {
		if !slices.Equal(h.Templates, want[h.Host]) {
			t.Errorf("host %s linked to %v, want %v", h.Host, h.Templates, want[h.Host])
		}
	}
	if len(c.Sites[0].Templates) != 0 {
		t.Error("withCustomTemplates changed the loaded configuration")
	}
}

func TestBadCustomMeasureStopsTheProgram(t *testing.T) {
	bad := strings.Replace(mainMeasures, "SELECT COUNT(*) AS value FROM {user}", "SELECT MAX(username) AS value FROM {user}", 1)
	cfg := customConfig(t, bad)
	for _, args := range [][]string{
		{"measures", "--config", cfg},
		{"templates", "--config", cfg},
		{"run", "--family", "daily", "--dry-run", "--config", cfg},
	} {
		code, out, errs := runCLI(t, args...)
		want := filepath.Join(filepath.Dir(cfg), "main.yaml") + ":8: moodle.custom.newusers: sql: the select list reads username outside COUNT(...)"
		if code != ExitFailure || !strings.Contains(errs, want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %d bytes), want %q", args, code, errs, len(out), want)
		}
	}
}
