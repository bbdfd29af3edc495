package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

// zabbix70 returns a logged-in API client of the Zabbix 7.0 test server (MZ_ZABBIX70_API); the
// test is skipped without it, and fails under MZ_REQUIRE_INTEGRATION=1.
func zabbix70(t *testing.T) (*zabbixapi.Client, map[string]string) {
	t.Helper()
	env := ztest.Require(t, "MZ_ZABBIX70_API", "MZ_ZABBIX_USER", "MZ_ZABBIX_PASSWORD")
	api, err := zabbixapi.New(env["MZ_ZABBIX70_API"], zabbixapi.Options{Username: env["MZ_ZABBIX_USER"], Password: env["MZ_ZABBIX_PASSWORD"]})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := api.Login(ctx); err != nil {
		t.Fatalf("Zabbix 7.0 API login: %v", err)
	}
	t.Cleanup(func() { _ = api.Logout(context.Background()) })
	return api, env
}

// TestInstallTwiceZabbix70 installs the 7.0 templates (version-aware dashboards, with key
// figures and per-widget time periods), two sites and a fleet into a real Zabbix 7.0 twice:
// the second install changes nothing.
func TestInstallTwiceZabbix70(t *testing.T) {
	api, env := zabbix70(t)
	group := ztest.UniqueName("Moodle 70 sites")
	a, b, fleet := ztest.UniqueName("moodle-70-a"), ztest.UniqueName("moodle-70-b"), ztest.UniqueName("moodle-70-fleet")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`zabbix:
  servers: ["127.0.0.1:1"]
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
fleets:
  - {name: "%s fleet", host: "%s", group: "%s"}
sites:
  - {name: a, host: "%s", driver: sqlite, dsn: /nonexistent/a.db, groups: ["%s"], templates: ["Moodle hvp"]}
  - {name: b, host: "%s", driver: sqlite, dsn: /nonexistent/b.db, groups: ["%s"]}
`, filepath.Join(dir, "spool"), env["MZ_ZABBIX70_API"], env["MZ_ZABBIX_USER"], fleet, fleet, group, a, group, b, group)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deleteHosts(t, api, a, b, fleet)
		deleteGroups(t, api, group)
	})
	code, out, errs := runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK {
		t.Fatalf("install on 7.0: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "install", "--config", cfgPath)
	if code != ExitOK || !strings.Contains(out, "nothing to change") {
		t.Fatalf("second install on 7.0 changed something (exit %d):\n%s\n%s", code, out, errs)
	}
}
