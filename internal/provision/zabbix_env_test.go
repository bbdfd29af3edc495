package provision

// The integration tests reach the test Zabbix through internal/ztest, which also keeps them
// from running while a fault test has the server stopped.

import (
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

// *zabbixapi.Client is the Caller the subcommands pass.
var _ Caller = (*zabbixapi.Client)(nil)

// zabbixEnv is a logged-in API client and the trapper address of the test server.
type zabbixEnv struct {
	API    caller
	Server string
	env    *ztest.Env
}

// eachZabbix runs f on every test server (6.0 and 7.0) as subtests named after the version;
// ztest skips visibly without a server, or fails when MZ_REQUIRE_INTEGRATION is set (CI).
func eachZabbix(t *testing.T, f func(t *testing.T, z *zabbixEnv)) {
	t.Helper()
	ztest.EachZabbix(t, func(t *testing.T, e *ztest.Env) {
		f(t, &zabbixEnv{API: e.API, Server: e.Server, env: e})
	})
}

// reloadConfigCache asks the server to reload its configuration cache, so that the trapper
// learns new hosts and items now; callers poll until the trapper accepts a value.
func (z *zabbixEnv) reloadConfigCache(t *testing.T) {
	t.Helper()
	z.env.ReloadConfigCache(t)
}

// uniqueName returns a name no other test run uses.
func uniqueName(prefix string) string { return ztest.UniqueName(prefix) }

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	t.Logf("waiting for %s", what)
	ztest.WaitFor(t, cond, timeout)
}
