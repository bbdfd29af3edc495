package ztest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Server is one test Zabbix server that scripts/services.sh sets up, read
// from the environment variables that start with its prefix.
type Server struct {
	// Version is the Zabbix major version the server runs, "6.0" or "7.0";
	// it names the subtests of EachZabbix.
	Version string
	// prefix starts the server's variables: PREFIX_API, PREFIX_SERVER, ...
	prefix string
	// script is the scripts/ file that starts and stops the server.
	script string
	// chrooted servers live in a directory tree named by PREFIX_ROOT: their
	// own commands (zabbix_server -R) run inside it.
	chrooted bool
	// lock keeps tests off the server while a test has it stopped.
	lock *fileRWLock
}

// Servers are the test Zabbix servers, oldest first: the host's 6.0 (its
// variables start with MZ_ZABBIX) and 7.0 in a Debian 13 tree beside it
// (MZ_ZABBIX70, set up by scripts/zabbix70.sh).
var Servers = []*Server{
	{Version: "6.0", prefix: "MZ_ZABBIX", script: "zabbix-server.sh", lock: serverLock},
	{Version: "7.0", prefix: "MZ_ZABBIX70", script: "zabbix70.sh", chrooted: true,
		lock: newFileRWLock(filepath.Join(os.TempDir(), "moodle-zabbix-ztest-server70.lock"))},
}

// vars returns the names of the variables the server needs.
func (s *Server) vars() []string {
	names := []string{"API", "USER", "PASSWORD", "SERVER", "CONF", "SENDER"}
	if s.chrooted {
		names = append(names, "ROOT")
	}
	for i, n := range names {
		names[i] = s.prefix + "_" + n
	}
	return names
}

// ServerVersion returns the test server of a version ("6.0", "7.0"); the
// test fails on a version no test server runs.
func ServerVersion(t testing.TB, version string) *Server {
	t.Helper()
	for _, s := range Servers {
		if s.Version == version {
			return s
		}
	}
	var known []string
	for _, s := range Servers {
		known = append(known, s.Version)
	}
	t.Fatalf("ztest: no test Zabbix %s (there are %s)", version, strings.Join(known, ", "))
	return nil
}

// ZabbixVersion is Zabbix for the test server of one version ("6.0", "7.0").
func ZabbixVersion(t testing.TB, version string) *Env {
	t.Helper()
	return zabbixOn(t, ServerVersion(t, version))
}

// EachZabbix runs f as a subtest named after each test server's version
// ("6.0", then "7.0"), with that server's Env. The subtests run one after
// the other. A missing server skips its subtest, or fails it when
// MZ_REQUIRE_INTEGRATION=1 (CI): every version is always tested there.
func EachZabbix(t *testing.T, f func(t *testing.T, e *Env)) {
	t.Helper()
	for _, s := range Servers {
		t.Run(s.Version, func(t *testing.T) {
			f(t, zabbixOn(t, s))
		})
	}
}
