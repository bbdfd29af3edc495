package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

// envLarge enables the Large-site benchmark, which loads 2 million log rows (minutes of work).
const envLarge = "MZ_BENCH_LARGE"

var allDialects = []measures.Dialect{measures.SQLite, measures.MySQL, measures.Postgres}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// BenchmarkRunFamily runs one family of the whole catalogue on the Small site, as the scheduler
// would: one op is one burst (every query of the family, discovery included, and the values
// formatted). SQLite always runs; MariaDB and PostgreSQL run when their DSN is set. The site is
// loaded once per engine and reused, so loading is not measured.
func BenchmarkRunFamily(b *testing.B) {
	for _, d := range allDialects {
		b.Run(string(d), func(b *testing.B) {
			s := site(b, d, smallSite)
			benchFamilies(b, s, measures.Families)
		})
	}
}

func benchFamilies(b *testing.B, s *loadedSite, fams []measures.Family) {
	runner := &measures.Runner{Registry: catalogue.Registry(), Logger: quietLogger()}
	ms := s.newSite()
	ctx := context.Background()
	for _, f := range fams {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			var burst *measures.Burst
			for b.Loop() {
				burst = runner.Run(ctx, ms, f, benchNow)
			}
			if err := burst.Err(); err != nil {
				b.Errorf("%s burst on %s had failures: %v", f, s.dialect, err)
			}
			b.ReportMetric(float64(len(burst.Values)), "values/op")
		})
	}
}

// BenchmarkLarge loads fixture.Large (20,000 users, 3,000 courses, 2 million log rows) into
// PostgreSQL once and runs the instant, hourly and daily families on it. It only runs when
// MZ_BENCH_LARGE=1 and MZ_PG_DSN are set; the time spent generating and loading the site is
// reported as the load-s metric.
func BenchmarkLarge(b *testing.B) {
	if os.Getenv(envLarge) == "" {
		b.Skipf("%s is not set: skipping the Large site (it takes minutes to load)", envLarge)
	}
	b.Run(string(measures.Postgres), func(b *testing.B) {
		s := site(b, measures.Postgres, largeSite)
		b.Run("load", func(b *testing.B) {
			// The load happened once, above; this reports its duration.
			for b.Loop() {
			}
			b.ReportMetric(s.loadTime.Seconds(), "load-s")
			b.ReportMetric(float64(s.model.RowCounts()[logTable]), "logrows")
		})
		benchFamilies(b, s, []measures.Family{measures.Instant, measures.Hourly, measures.Daily})
	})
}

// deliveryBurst returns the values of every family of the Small SQLite site as sender items for
// hosts hosts: the realistic content of one day's bursts, with real keys, LLD JSON and values.
func deliveryBurst(b testing.TB, hosts int) []sender.Item {
	s := site(b, measures.SQLite, smallSite)
	runner := &measures.Runner{Registry: catalogue.Registry(), Logger: quietLogger()}
	var values []measures.Value
	for _, f := range measures.Families {
		burst := runner.Run(context.Background(), s.newSite(), f, benchNow)
		values = append(values, burst.Values...)
	}
	var items []sender.Item
	for h := 1; h <= hosts; h++ {
		host := fmt.Sprintf("moodle-%02d", h)
		for _, v := range values {
			items = append(items, sender.Item{Host: host, Key: v.Key, Value: v.Value, Clock: v.Clock.Unix()})
		}
	}
	return items
}

// BenchmarkDeliver sends a realistic burst to a real loopback trapper (sendertest): every value
// one site produces over all five families, for one site and for a fleet of 20 sites through
// one client, plain and zlib-compressed, in packets of the default 250 values. One op is one
// complete Send, every packet answered.
func BenchmarkDeliver(b *testing.B) {
	for _, hosts := range []int{1, 20} {
		items := deliveryBurst(b, hosts)
		var bytes int
		for _, it := range items {
			bytes += len(it.Host) + len(it.Key) + len(it.Value)
		}
		for _, compress := range []bool{false, true} {
			name := fmt.Sprintf("hosts=%d/plain", hosts)
			if compress {
				name = fmt.Sprintf("hosts=%d/zlib", hosts)
			}
			b.Run(name, func(b *testing.B) {
				benchDeliver(b, items, compress)
				b.ReportMetric(float64(len(items)), "values/op")
				b.ReportMetric(float64(bytes), "textbytes/op")
			})
		}
	}
}

// serverRecycle is how many sends one test trapper receives before it is replaced: the server
// keeps every request, so a long benchmark would otherwise measure its memory growth.
const serverRecycle = 50

func benchDeliver(b *testing.B, items []sender.Item, compress bool) {
	ctx := context.Background()
	var srv *sendertest.Server
	var client *sender.Client
	fresh := func() {
		if srv != nil {
			srv.Close()
		}
		srv = sendertest.NewServer(nil)
		var err error
		client, err = sender.NewClient(sender.Options{Servers: []string{srv.Addr}, Compress: compress, Timeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
	}
	fresh()
	defer func() { srv.Close() }()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%serverRecycle == 0 {
			b.StopTimer()
			fresh()
			b.StartTimer()
		}
		res, err := client.Send(ctx, items)
		if err != nil {
			b.Fatal(err)
		}
		if res.Processed != len(items) {
			b.Fatalf("processed %d of %d values", res.Processed, len(items))
		}
	}
	b.StopTimer()
	if errs := srv.Errors(); len(errs) > 0 {
		b.Fatalf("trapper errors: %v", errs)
	}
}

// BenchmarkTemplatesBuild builds the Zabbix export of the whole catalogue (host templates and
// the fleet template) and encodes it as YAML, as `moodle-zabbix templates` does.
func BenchmarkTemplatesBuild(b *testing.B) {
	reg := catalogue.Registry()
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := templates.Build(reg, templates.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build+yaml", func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for b.Loop() {
			exp, err := templates.Build(reg, templates.Options{})
			if err != nil {
				b.Fatal(err)
			}
			y, err := exp.YAML()
			if err != nil {
				b.Fatal(err)
			}
			size = len(y)
		}
		b.ReportMetric(float64(size), "yamlbytes/op")
	})
}

// TestBenchmarkSitesRun keeps the benchmarks honest without timing anything: every family runs
// on the SQLite Small site with no failure and produces values, and a burst reaches the test
// trapper intact.
func TestBenchmarkSitesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the Small site")
	}
	s := site(t, measures.SQLite, smallSite)
	runner := &measures.Runner{Registry: catalogue.Registry(), Logger: quietLogger()}
	total := 0
	for _, f := range measures.Families {
		burst := runner.Run(context.Background(), s.newSite(), f, benchNow)
		if err := burst.Err(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if len(burst.Values) == 0 {
			t.Errorf("%s: no value", f)
		}
		total += len(burst.Values)
	}
	srv := sendertest.NewServer(nil)
	defer srv.Close()
	client, err := sender.NewClient(sender.Options{Servers: []string{srv.Addr}, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	items := deliveryBurst(t, 1)
	if len(items) != total {
		t.Errorf("delivery burst has %d items, want the %d values of the five families", len(items), total)
	}
	res, err := client.Send(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Items()
	if res.Processed != len(items) || len(got) != len(items) {
		t.Fatalf("processed %d, received %d, sent %d", res.Processed, len(got), len(items))
	}
	for i := range items {
		if got[i].Key != items[i].Key || got[i].Value != items[i].Value || !strings.HasPrefix(got[i].Host, "moodle-") {
			t.Fatalf("item %d: got %+v, want %+v", i, got[i], items[i])
		}
	}
}
