// Package ztest is the integration-test harness: it reads the service
// settings that scripts/services.sh writes to .ci/services.env (MZ_* variables),
// gives each test its own MariaDB or PostgreSQL database, and a logged-in
// Zabbix API client with helpers to steer the test Zabbix servers: 6.0 on the
// host and 7.0 in a Debian 13 tree (EachZabbix runs a test on both), and a
// signed-in web session on their frontends (Frontend).
//
// Only _test.go files import it. Run the integration tests with `make test`,
// or after scripts/services.sh with `. .ci/services.env && go test ./...`.
package ztest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequireVar is the variable that turns missing settings from a skip into a
// failure (set to 1 by .ci/services.env, so CI never skips silently).
const RequireVar = "MZ_REQUIRE_INTEGRATION"

// Require returns the values of the named environment variables. When one
// is unset the test is skipped, or fails if MZ_REQUIRE_INTEGRATION=1.
func Require(t testing.TB, vars ...string) map[string]string {
	t.Helper()
	values := make(map[string]string, len(vars))
	var missing []string
	for _, name := range vars {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
			continue
		}
		values[name] = v
	}
	if len(missing) == 0 {
		return values
	}
	msg := fmt.Sprintf("integration test needs %s: run `make test`, or run scripts/services.sh "+
		"as root and `. .ci/services.env` before go test", strings.Join(missing, ", "))
	if os.Getenv(RequireVar) == "1" {
		t.Fatalf("%s (%s=1 forbids skipping)", msg, RequireVar)
	}
	t.Skip(msg)
	return nil
}

// UniqueName returns prefix followed by a random suffix, for Zabbix hosts,
// groups and templates that must not collide with other tests or runs.
// The result uses only letters, digits, '-' and '_'.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails on Linux
	return prefix + "-" + hex.EncodeToString(b)
}

// WaitFor calls cond every 100 ms until it returns true, and fails the test
// if that does not happen within timeout. It is for waiting on the server
// (cache updates, history), not for asserting speed.
func WaitFor(t testing.TB, cond func() bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ztest: condition still false after %v", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RepoRoot returns the repository root: the nearest directory at or above
// the working directory that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("ztest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("ztest: no go.mod above the working directory")
		}
		dir = parent
	}
}
