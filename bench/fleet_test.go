package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/cmd/moodle-zabbix/app"
	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// envFleetSites overrides the number of healthy sites of BenchmarkFleetInstant (1,000).
const envFleetSites = "MZ_BENCH_FLEET_SITES"

// blackHole accepts TCP connections and never answers: a database server that hangs.
func blackHole(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

// envFleetBuild asks TestFleetFixtureBuild, in a child process, to write the fleet's site to
// the SQLite path or MariaDB DSN it holds (envFleetBuildDriver names the driver, sqlite when
// empty): the benchmark's own peak RSS then does not include the fixture's generation.
const (
	envFleetBuild       = "MZ_BENCH_FLEET_BUILD"
	envFleetBuildDriver = "MZ_BENCH_FLEET_BUILD_DRIVER"
)

// envFleetEngine set to mysql (or postgres) runs the fleet's healthy sites on the MariaDB
// server of MZ_MYSQL_DSN (the PostgreSQL server of MZ_PG_DSN) instead of SQLite files: each
// site its own pool on one database holding fixture.Small, as a hosting company's sites on a
// shared server. With the default scale.idle_connections of 1 that server must accept more
// connections than there are sites (MariaDB: SET GLOBAL max_connections); the PostgreSQL
// fleet runs with idle_connections 0 unless envFleetIdle says otherwise.
const envFleetEngine = "MZ_BENCH_FLEET_ENGINE"

// envFleetIdle sets the fleet's scale.idle_connections (0 or 1); by default 0 on PostgreSQL,
// whose server accepts 100 connections unless restarted with more, and 1 elsewhere.
const envFleetIdle = "MZ_BENCH_FLEET_IDLE"

// TestFleetFixtureBuild writes fixture.Small into the fleet's database when envFleetBuild is
// set (it is the child process of fleetSiteDSN); otherwise it has nothing to do.
func TestFleetFixtureBuild(t *testing.T) {
	target := os.Getenv(envFleetBuild)
	if target == "" {
		t.Skip("only run as the child process of BenchmarkFleetInstant")
	}
	d := measures.SQLite
	switch os.Getenv(envFleetBuildDriver) {
	case "mysql":
		d = measures.MySQL
	case "postgres":
		d = measures.Postgres
	}
	db, err := sql.Open(d.DriverName(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	model := fixture.Generate(benchSeed, fixture.Small, benchNow)
	if err := model.Load(context.Background(), db, string(d), fixture.DefaultPrefix); err != nil {
		t.Fatal(err)
	}
	if err := analyze(context.Background(), db, d, model); err != nil {
		t.Fatal(err)
	}
}

// fleetSiteDSN loads fixture.Small, in a child process, into an SQLite file or, when
// envFleetEngine is mysql, into a temporary MariaDB database that the benchmark drops at its
// end, and returns the driver and DSN the fleet's sites use.
func fleetSiteDSN(tb testing.TB, sites int) (driver, dsn string) {
	build := func(driver, target string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFleetFixtureBuild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envFleetBuild+"="+target, envFleetBuildDriver+"="+driver)
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("build the fleet site: %v\n%s", err, out)
		}
	}
	switch e := os.Getenv(envFleetEngine); e {
	case "", "sqlite":
		path := filepath.Join(tb.TempDir(), "moodle.db")
		build("sqlite", path)
		return "sqlite", path + "?_pragma=cache_size(-256)&_pragma=query_only(1)"
	case "mysql":
		admin := adminDSN(tb, measures.MySQL)
		ctx := context.Background()
		db, err := sql.Open("mysql", admin)
		if err != nil {
			tb.Fatal(err)
		}
		defer db.Close()
		var limit int
		if err := db.QueryRowContext(ctx, "SELECT @@max_connections").Scan(&limit); err != nil {
			tb.Fatal(err)
		}
		if need := sites + 60; limit < need {
			tb.Fatalf("the MariaDB server accepts %d connections; %d sites keep one each between bursts: SET GLOBAL max_connections = %d", limit, sites, need)
		}
		dsn, drop, err := fixture.CreateTempDatabase(ctx, "mysql", admin)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = drop() })
		build("mysql", dsn)
		return "mysql", dsn
	case "postgres":
		dsn, drop, err := fixture.CreateTempDatabase(context.Background(), "postgres", adminDSN(tb, measures.Postgres))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = drop() })
		build("postgres", dsn)
		return "postgres", dsn
	default:
		tb.Fatalf("%s=%q: want sqlite, mysql or postgres", envFleetEngine, e)
	}
	return "", ""
}

// serverConnections samples, every 50 ms until stop is closed, the connections the fleet's
// database server holds (MariaDB Threads_connected, PostgreSQL pg_stat_activity's client
// backends), and returns the highest count seen; 0 for SQLite.
func serverConnections(tb testing.TB, driver, dsn string, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	q := ""
	switch driver {
	case "mysql":
		q = "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED'"
	case "postgres":
		q = "SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
	default:
		out <- 0
		return out
	}
	d, _ := measures.ParseDialect(driver)
	db, err := sql.Open(d.DriverName(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	go func() {
		defer db.Close()
		peak := 0
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			var n int
			if err := db.QueryRow(q).Scan(&n); err == nil {
				peak = max(peak, n)
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// peakRSS returns the process's peak resident set size in MiB (VmHWM), 0 when unknown.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// openFDs counts the process's open file descriptors (database connections and files).
func openFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// BenchmarkFleetInstant is one minute of a 1,000-site daemon: the instant entry of every site
// of one process (app.DaemonScheduler, default global limit of 16 bursts, jitter 0s so that
// every site fires at once: the worst case), each site with its own database pool on a copy of
// fixture.Small (one SQLite file shared by all), delivering to a sendertest trapper with a
// spool. Ten more sites have a database that accepts connections and never answers
// (measure_timeout 3s) and ten a refused one. One op is one minute's bursts, all waited for.
// Metrics: healthy-s (until the last healthy site was delivered), wall-s (until the last
// site, dead ones included), values/op, trapper connections/op, peak-RSS-MiB (process peak,
// the fixture build is done in a child process), go-sys-MiB (memory the Go runtime holds: the
// process without SQLite's own page caches, which are per connection and belong to the test
// engine), open fds at the end and server-conns (the most connections the database server
// held during the run, the sampler's own included; 0 for SQLite). The SQLite DSN limits each
// connection's page cache to 256 KiB (cache_size pragma); with envFleetEngine=mysql or
// postgres the sites use a database server, which keeps its caches in its own process.
func BenchmarkFleetInstant(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv(envFleetSites)); err == nil && v > 0 {
		n = v
	}
	driver, dsn := fleetSiteDSN(b, n)
	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	hole := blackHole(b)
	dir := b.TempDir()
	var cfgText strings.Builder
	idle := 1
	if driver == "postgres" {
		idle = 0
	}
	if v, err := strconv.Atoi(os.Getenv(envFleetIdle)); err == nil {
		idle = v
	}
	fmt.Fprintf(&cfgText, "zabbix:\n  servers: [%q]\n  spool: {dir: %s}\nscale: {jitter: 0s, idle_connections: %d}\nsites:\n", trapper.Addr, filepath.Join(dir, "spool"), idle)
	for i := range n {
		fmt.Fprintf(&cfgText, "  - {name: s%04d, host: h%04d, driver: %s, dsn: %q}\n", i, i, driver, dsn)
	}
	for i := range 10 {
		fmt.Fprintf(&cfgText, "  - {name: hang%02d, host: hang%02d, driver: mysql, dsn: \"u:p@tcp(%s)/m?timeout=3s&readTimeout=3s\", measure_timeout: 3s}\n", i, i, hole)
		fmt.Fprintf(&cfgText, "  - {name: dead%02d, host: dead%02d, driver: mysql, dsn: \"u:p@tcp(127.0.0.1:1)/m?timeout=1s\", measure_timeout: 3s}\n", i, i)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := app.NewRuntime(cfg, catalogue.Registry(), quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	s, err := app.DaemonScheduler(rt, quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, e := range s.Entries() {
		if strings.HasSuffix(e.Name, "/instant") {
			names = append(names, e.Name)
		}
	}
	minute := 0
	var healthy, wall time.Duration
	stop := make(chan struct{})
	peakConns := serverConnections(b, driver, dsn, stop)
	for b.Loop() {
		fired := benchNow.Add(time.Duration(minute) * time.Minute)
		minute++
		before := len(trapper.Items())
		conns := trapper.Connections()
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var lastHealthy time.Duration
		for _, name := range names {
			r, err := s.Trigger(name, fired)
			if err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = r.Wait()
				if strings.HasPrefix(name, "s") {
					mu.Lock()
					lastHealthy = max(lastHealthy, time.Since(start))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		healthy, wall = lastHealthy, time.Since(start)
		b.ReportMetric(float64(len(trapper.Items())-before), "values/op")
		b.ReportMetric(float64(trapper.Connections()-conns), "trapper-conns/op")
	}
	close(stop)
	b.ReportMetric(float64(<-peakConns), "server-conns")
	b.ReportMetric(healthy.Seconds(), "healthy-s")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "go-sys-MiB")
	b.ReportMetric(float64(openFDs()), "fds")
	b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
}

// BenchmarkSend100k sends 100,000 values (100 hosts x 1,000 keys) through one sender.Client to
// a sendertest trapper, in packets of 250. heap-MiB is the peak heap in use while sending,
// sampled every millisecond, less the heap in use before (the items themselves included).
func BenchmarkSend100k(b *testing.B) {
	trapper := sendertest.NewServer(func(sendertest.Request) sendertest.Reply { return sendertest.Reply{NoRecord: true} })
	defer trapper.Close()
	c, err := sender.NewClient(sender.Options{Servers: []string{trapper.Addr}})
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		done := make(chan struct{})
		var top uint64
		go func() {
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					top = max(top, m.HeapInuse)
				}
			}
		}()
		items := make([]sender.Item, 0, 100_000)
		for h := range 100 {
			for k := range 1000 {
				items = append(items, sender.Item{Host: fmt.Sprintf("moodle-%03d", h), Key: fmt.Sprintf("moodle.bench.key%04d", k), Value: strconv.Itoa(h * k), Clock: benchNow.Unix()})
			}
		}
		res, err := c.Send(context.Background(), items)
		close(done)
		if err != nil || res.Processed != 100_000 {
			b.Fatalf("%v, %v", res, err)
		}
		if top > base {
			peak = max(peak, top-base)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
}
