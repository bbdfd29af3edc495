package faults

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/cmd/moodle-zabbix/app"
	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// silentListener accepts TCP connections and never says a word: a database that is up at the
// network level but does not answer (overloaded, stuck, or a proxy in front of a dead one).
type silentListener struct {
	ln     net.Listener
	mu     sync.Mutex
	open   int
	opened int
	closed []time.Time // when the client gave up on each connection
}

func newSilentListener(t *testing.T) *silentListener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentListener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open++
			s.opened++
			s.mu.Unlock()
			go func() {
				var buf [256]byte
				for {
					if _, err := c.Read(buf[:]); err != nil {
						break
					}
				}
				c.Close()
				s.mu.Lock()
				s.open--
				s.closed = append(s.closed, time.Now())
				s.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *silentListener) addr() string { return s.ln.Addr().String() }

// firstClose returns when the client first gave up on a connection (zero if never).
func (s *silentListener) firstClose() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.closed) == 0 {
		return time.Time{}
	}
	return s.closed[0]
}

// TestUnreachableSite runs the daemon on three sites: a healthy one (MariaDB), one whose
// database refuses connections (PostgreSQL on port 1) and one whose database accepts the
// connection but never answers (MariaDB protocol to a silent listener). The healthy site's
// values arrive while the silent one is still waiting; both broken sites are reported with
// their names, and no password or DSN appears in what is logged.
func TestUnreachableSite(t *testing.T) {
	now := time.Now()
	healthyDSN, db := tempDSN(t, "mysql")
	loadFixture(t, db, "mysql", 31, now)
	silent := newSilentListener(t)
	const refusedPassword, silentPassword = "R3fusedPassw0rd", "S1lentPassw0rd"
	refusedDSN := "postgres://moodle:" + refusedPassword + "@127.0.0.1:1/moodle?sslmode=disable"
	silentDSN := "moodle:" + silentPassword + "@tcp(" + silent.addr() + ")/moodle"
	t.Setenv("MZ_FAULT_HEALTHY_DSN", healthyDSN)
	t.Setenv("MZ_FAULT_REFUSED_DSN", refusedDSN)
	t.Setenv("MZ_FAULT_SILENT_DSN", silentDSN)

	var (
		mu       sync.Mutex
		arrivals = map[string][]time.Time{} // host -> when its packets arrived
		values   = map[string]int{}
		// nonSelf counts values of a host other than moodle-zabbix's own self-monitoring.
		nonSelf = map[string]int{}
	)
	trapper := sendertest.NewServer(func(req sendertest.Request) sendertest.Reply {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range req.Data {
			values[it.Host]++
			if !strings.HasPrefix(it.Key, "moodle.self.") {
				nonSelf[it.Host]++
			}
		}
		if len(req.Data) > 0 {
			arrivals[req.Data[0].Host] = append(arrivals[req.Data[0].Host], time.Now())
		}
		return sendertest.Reply{}
	})
	defer trapper.Close()

	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.yaml", fmt.Sprintf(`zabbix:
  servers: ["%s"]
  spool: {dir: %s}
schedules:
  instant: "@every 1s"
sites:
  - {name: healthy, host: mz-fault-healthy, driver: mysql, dsn: "env:MZ_FAULT_HEALTHY_DSN"}
  - {name: refused, host: mz-fault-refused, driver: postgres, dsn: "env:MZ_FAULT_REFUSED_DSN", measure_timeout: 3s}
  - {name: silent, host: mz-fault-silent, driver: mysql, dsn: "env:MZ_FAULT_SILENT_DSN", measure_timeout: 2s}
`, trapper.Addr, filepath.Join(dir, "spool")))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	log, logs := newLogger(t)
	rt, err := app.NewRuntime(cfg, catalogue.Registry(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()

	ctx, cancel := context.WithCancel(context.Background())
	daemonDone := make(chan error, 1)
	go func() { daemonDone <- app.RunDaemon(ctx, rt, log) }()
	// Wait for two healthy bursts and the reports of both broken sites.
	reported := func(site string) bool {
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "site="+site) && strings.Contains(l, "level=WARN") {
				return true
			}
		}
		return false
	}
	ztest.WaitFor(t, func() bool {
		mu.Lock()
		n := len(arrivals["mz-fault-healthy"])
		mu.Unlock()
		return n >= 2 && reported("refused") && reported("silent")
	}, 60*time.Second)
	cancel()
	select {
	case err := <-daemonDone:
		if err != nil {
			t.Fatalf("daemon: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not stop")
	}

	mu.Lock()
	healthy := arrivals["mz-fault-healthy"]
	got := values["mz-fault-healthy"]
	bad := nonSelf["mz-fault-refused"] + nonSelf["mz-fault-silent"]
	selfBad := values["mz-fault-refused"] + values["mz-fault-silent"] - bad
	mu.Unlock()
	gaveUp := silent.firstClose()
	if gaveUp.IsZero() {
		t.Fatal("the silent database's connection was never given up")
	}
	if !healthy[0].Before(gaveUp) {
		t.Errorf("the healthy site's first values arrived at %s, after the silent site gave up at %s: it waited for it",
			healthy[0].Format(time.RFC3339Nano), gaveUp.Format(time.RFC3339Nano))
	}
	if got == 0 {
		t.Error("no value of the healthy site arrived")
	}
	// A broken site still reports on itself (moodle.self.*: its failed measures), nothing else.
	if bad != 0 {
		t.Errorf("%d values other than self-monitoring arrived for the broken sites", bad)
	}
	if values["mz-fault-refused"] == 0 {
		t.Error("the refused site sent no self-monitoring values: its failure is invisible in Zabbix")
	}
	text := logs.String()
	leaks := 0
	for _, secret := range []string{refusedPassword, silentPassword, refusedDSN, silentDSN} {
		if strings.Contains(text, secret) {
			leaks++
			t.Errorf("the log reveals %q", secret)
		}
	}
	for _, site := range []string{"refused", "silent"} {
		if !reported(site) {
			t.Errorf("site %s: its failure is not reported with its name", site)
		}
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "site=silent") && strings.Contains(l, "level=WARN") {
			t.Logf("silent site reported as: %s", l)
			break
		}
	}
	figures(t, "unreachable-site", "sites", 3, "broken", 2, "healthy_bursts", len(healthy), "healthy_values", got,
		"broken_values", bad, "broken_self_values", selfBad, "secrets_logged", leaks, "healthy_first_before_silent_gave_up", healthy[0].Before(gaveUp))

	// Every family of the silent site must end by itself (within its timeouts), even those
	// that first ask which plugins are installed.
	var wg sync.WaitGroup
	for _, f := range measures.Families {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer fcancel()
			started := time.Now()
			o := rt.RunFamily(fctx, "silent", f, now, true)
			if fctx.Err() != nil || o.Burst.FailedKeys() == 0 {
				t.Errorf("silent site, %s: ended only by the test's own deadline after %v (failures %v)",
					f, time.Since(started).Round(time.Millisecond), o.Burst.Failures)
			}
		}()
	}
	wg.Wait()
}
