package ztest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
)

// HistoryValue is one stored value, as History returns it.
type HistoryValue = zabbixapi.HistoryValue

// Env is the test Zabbix server and its API, as seen by one test.
type Env struct {
	// API is a client logged in as MZ_ZABBIX_USER; it logs out at the end.
	API *zabbixapi.Client
	// Server is the trapper address (host:port) for the sender protocol.
	Server string
	// URL is the API endpoint.
	URL string
	// Sender is the path of zabbix_sender.
	Sender string
	// ConfPath is the server's configuration file.
	ConfPath string
	// Root is the directory tree a chrooted server (7.0) runs in; ConfPath
	// is under it. Empty for the host's server.
	Root string
	// Version is the version the API reports, e.g. 7.0.22.
	Version zabbixapi.Version
	// TestServer is the server this Env reaches (its Version: "6.0", "7.0").
	TestServer *Server

	user, password string // for Frontend

	mu      sync.Mutex
	mode    lockMode
	stopped bool // StopServer's clean-up is registered
}

// Zabbix returns the test Zabbix 6.0 environment from the MZ_ZABBIX_*
// variables with a logged-in API client. Tests that use it run alongside
// each other, but never while another test has the server stopped (see
// StopServer). EachZabbix runs a test on every version.
func Zabbix(t testing.TB) *Env {
	t.Helper()
	return zabbixOn(t, Servers[0])
}

// zabbixOn returns the Env of one test server.
func zabbixOn(t testing.TB, s *Server) *Env {
	t.Helper()
	env := Require(t, s.vars()...)
	v := func(name string) string { return env[s.prefix+"_"+name] }
	client, err := zabbixapi.New(v("API"), zabbixapi.Options{
		Username: v("USER"),
		Password: v("PASSWORD"),
	})
	if err != nil {
		t.Fatalf("ztest: %v", err)
	}
	e := &Env{
		API:        client,
		Server:     v("SERVER"),
		URL:        v("API"),
		Sender:     v("SENDER"),
		ConfPath:   v("CONF"),
		Root:       v("ROOT"),
		TestServer: s,
		user:       v("USER"),
		password:   v("PASSWORD"),
	}
	if e.Root != "" && !strings.HasPrefix(e.ConfPath, filepath.Clean(e.Root)+"/") {
		t.Fatalf("ztest: %s_CONF %s is not under %s_ROOT %s", s.prefix, e.ConfPath, s.prefix, e.Root)
	}
	if err := s.lock.rlock(); err != nil {
		t.Fatalf("ztest: %v", err)
	}
	e.mode = lockShared
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.release()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.Login(ctx); err != nil {
		t.Fatalf("ztest: Zabbix %s API login: %v", s.Version, err)
	}
	if e.Version, err = client.Version(ctx); err != nil {
		t.Fatalf("ztest: Zabbix %s API version: %v", s.Version, err)
	}
	if want := s.Version + "."; !strings.HasPrefix(e.Version.String(), want) {
		t.Fatalf("ztest: %s_API %s answers version %s, want %sx", s.prefix, e.URL, e.Version, want)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.Logout(ctx); err != nil {
			t.Logf("ztest: Zabbix API logout: %v", err)
		}
	})
	return e
}

// release drops whatever lock e holds; e.mu must be held.
func (e *Env) release() {
	switch e.mode {
	case lockShared:
		e.TestServer.lock.runlock()
	case lockExclusive:
		e.TestServer.lock.unlock()
	}
	e.mode = lockNone
}

// UniqueName returns prefix with a random suffix (see the package function).
func (e *Env) UniqueName(prefix string) string { return UniqueName(prefix) }

// ReloadConfigCache asks the server to reload its configuration cache
// (zabbix_server -R config_cache_reload). The reload is asynchronous: poll
// with WaitFor for its effect, e.g. until the trapper accepts a new item.
// A chrooted server's own zabbix_server runs the command inside its tree:
// the host's binary of another version cannot talk to it.
func (e *Env) ReloadConfigCache(t testing.TB) {
	t.Helper()
	var cmd *exec.Cmd
	if e.Root != "" {
		inner := strings.TrimPrefix(e.ConfPath, filepath.Clean(e.Root))
		cmd = exec.Command("chroot", e.Root, "/usr/sbin/zabbix_server", "-c", inner, "-R", "config_cache_reload")
	} else {
		bin, err := exec.LookPath("zabbix_server")
		if err != nil {
			bin = "/usr/sbin/zabbix_server"
		}
		cmd = exec.Command(bin, "-c", e.ConfPath, "-R", "config_cache_reload")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ztest: config_cache_reload: %v: %s", err, out)
	}
}

// StopServer stops the Zabbix server and waits until its port is closed.
// It first waits until no other test (in any package) uses the server and
// keeps them waiting until this test ends; the server is started again
// then if the test did not. The test must not hold another Env at the same
// time (say, one from a parent test): that would deadlock.
func (e *Env) StopServer(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	if e.mode != lockExclusive {
		e.release()
		if err := e.TestServer.lock.lock(); err != nil {
			e.mu.Unlock()
			t.Fatalf("ztest: %v", err)
		}
		e.mode = lockExclusive
	}
	if !e.stopped {
		e.stopped = true
		t.Cleanup(func() {
			if err := e.runServerScript(t, "start"); err != nil {
				t.Errorf("ztest: restart Zabbix server: %v", err)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			e.release()
			e.stopped = false
			if err := e.TestServer.lock.rlock(); err == nil {
				e.mode = lockShared
			}
		})
	}
	e.mu.Unlock()
	if err := e.runServerScript(t, "stop"); err != nil {
		t.Fatalf("ztest: stop Zabbix server: %v", err)
	}
}

// StartServer starts the Zabbix server (if it is not running) and waits
// until its trapper port accepts connections.
func (e *Env) StartServer(t testing.TB) {
	t.Helper()
	if err := e.runServerScript(t, "start"); err != nil {
		t.Fatalf("ztest: start Zabbix server: %v", err)
	}
}

// runServerScript runs the server's control script (scripts/zabbix-server.sh
// for 6.0, scripts/zabbix70.sh for 7.0) with one action.
func (e *Env) runServerScript(t testing.TB, action string) error {
	script := filepath.Join(RepoRoot(t), "scripts", e.TestServer.script)
	out, err := exec.Command("bash", script, action).CombinedOutput()
	if err != nil {
		return &scriptError{script: e.TestServer.script, action: action, err: err, out: string(out)}
	}
	return nil
}

type scriptError struct {
	script, action, out string
	err                 error
}

func (e *scriptError) Error() string {
	return e.script + " " + e.action + ": " + e.err.Error() + ": " + e.out
}

func (e *scriptError) Unwrap() error { return e.err }

// History returns the stored values of the item with key on the host with
// technical name hostName, oldest first. The test fails if either is missing.
func (e *Env) History(t testing.TB, hostName, key string) []HistoryValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hosts, err := e.API.HostGet(ctx, hostName)
	if err != nil {
		t.Fatalf("ztest: %v", err)
	}
	if len(hosts) != 1 {
		t.Fatalf("ztest: %d hosts named %q", len(hosts), hostName)
	}
	items, err := e.API.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hosts[0].HostID}, Keys: []string{key}})
	if err != nil {
		t.Fatalf("ztest: %v", err)
	}
	if len(items) != 1 {
		t.Fatalf("ztest: %d items with key %q on host %q", len(items), key, hostName)
	}
	values, err := e.API.HistoryGet(ctx, []string{items[0].ItemID}, items[0].ValueType, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("ztest: %v", err)
	}
	return values
}
