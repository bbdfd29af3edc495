package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// customE2EMeasures declares, over the standard log, a scalar monthly measure and one per
// course behind a discovery rule. %s is the template's name.
const customE2EMeasures = `template: %s
discoveries:
  - key: moodle.custom.e2e.courses
    name: Courses with logged activity
    description: Courses with events in the standard log during the month.
    family: monthly
    sql: |
      SELECT courseid AS courseid, COUNT(DISTINCT userid) AS people
        FROM {logstore_standard_log}
       WHERE timecreated >= ? AND timecreated < ? AND courseid > 1
       GROUP BY courseid
    args: [from, to]
    macros: [{macro: "{#COURSEID}", column: courseid}]
    people: people
measures:
  - key: moodle.custom.e2e.events
    name: Logged events (custom)
    description: Events written to the standard log during the month.
    family: monthly
    units: events
    aggregate: sum
    sql: SELECT COUNT(*) AS value FROM {logstore_standard_log} WHERE timecreated >= ? AND timecreated < ?
    args: [from, to]
  - key: moodle.custom.e2e.courseevents[{#COURSEID}]
    name: Logged events in course {#COURSEID} (custom)
    description: Events of one course written to the standard log during the month.
    family: monthly
    units: events
    discovery: moodle.custom.e2e.courses
    sql: |
      SELECT courseid AS courseid, COUNT(*) AS value
        FROM {logstore_standard_log}
       WHERE timecreated >= ? AND timecreated < ?
       GROUP BY courseid
    args: [from, to]
`

// TestCustomMeasuresEndToEnd installs a site with a custom measure file on the real Zabbix
// server (its template is linked by install without being listed), runs the family on MariaDB
// and reads the values back from Zabbix's history.
func TestCustomMeasuresEndToEnd(t *testing.T) {
	env := ztest.Zabbix(t)
	ctx := context.Background()
	now := time.Now()
	dsn, _ := ztest.Database(t, "mysql")
	loadSite(t, "mysql", dsn, 21, now)

	host, group, tpl := ztest.UniqueName("moodle-custom-e2e"), ztest.UniqueName("Moodle custom e2e sites"), ztest.UniqueName("Moodle custom e2e")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "measures.yaml"), []byte(fmt.Sprintf(customE2EMeasures, tpl)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	cfgText := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
custom_measures: [measures.yaml]
sites:
  - {name: my, host: "%s", driver: mysql, dsn: "env:MZ_CUSTOM_E2E_DSN", timezone: Europe/Paris, groups: ["%s"]}
`, env.Server, filepath.Join(dir, "spool"), env.URL, os.Getenv("MZ_ZABBIX_USER"), host, group)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MZ_CUSTOM_E2E_DSN", dsn)
	t.Cleanup(func() {
		deleteHosts(t, env.API, host)
		deleteGroups(t, env.API, group)
		if ts, err := env.API.TemplateGet(context.Background(), tpl); err == nil && len(ts) == 1 {
			if err := env.API.TemplateDelete(context.Background(), ts[0].TemplateID); err != nil {
				t.Logf("clean-up template.delete: %v", err)
			}
		}
	})

	code, out, errs := runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK || !strings.Contains(out, "nothing to change") {
		t.Fatalf("second install changed something (exit %d):\n%s\n%s", code, out, errs)
	}

	client, err := sender.NewClient(sender.Options{Servers: []string{env.Server}})
	if err != nil {
		t.Fatal(err)
	}
	env.ReloadConfigCache(t)
	ztest.WaitFor(t, func() bool {
		res, _ := client.Send(ctx, []sender.Item{{Host: host, Key: "moodle.custom.e2e.events", Value: "0", Clock: now.Unix() - 90*86400}})
		return res.Processed == 1
	}, 60*time.Second)

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalogues(cfg, catalogue.Registry())
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(cfg, cat.All, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rt.useSiteRegistries(cat)
	rt.LLDRetry = time.Second
	o := rt.RunFamily(ctx, "my", measures.Monthly, now, false)
	if o.ExitCode() != ExitOK || o.Delivery.Failed != 0 {
		t.Fatalf("exit %d, delivery %s, failures %v, err %v, refused %v", o.ExitCode(), o.Delivery, o.Burst.Failures, o.Err, o.Delivery.FailedKeys)
	}
	var custom []measures.Value
	scalar, prototypes := 0, 0
	for _, v := range o.Burst.Values {
		if strings.HasPrefix(v.Key, "moodle.custom.") && !v.Discovery {
			custom = append(custom, v)
			if v.Prototype {
				prototypes++
			} else {
				scalar++
			}
		}
	}
	if scalar != 1 || prototypes == 0 {
		t.Fatalf("custom values sent: %v; want the scalar one and at least one per course", custom)
	}
	t.Logf("%d custom values, %d in all", len(custom), len(o.Burst.Values))
	checkHistory(t, env.API, host, custom)
}
