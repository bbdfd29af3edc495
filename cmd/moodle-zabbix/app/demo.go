package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// DemoOptions configure the built-in demo.
type DemoOptions struct {
	Registry *measures.Registry
	// Now is the demo's clock (time.Now when zero).
	Now time.Time
	// Location is the demo site's time zone (UTC when nil).
	Location *time.Location
	// Families to run (all five when empty).
	Families []measures.Family
	Logger   *slog.Logger
}

// DemoHost is the Zabbix host name the demo sends for.
const DemoHost = "moodle-demo"

// Demo builds a small synthetic Moodle in an in-memory SQLite database, runs the families once,
// sends every value through the Zabbix sender protocol to an in-process trapper on loopback, and
// prints what that trapper received, grouped by family, with the discovery data. It needs
// nothing installed.
func Demo(ctx context.Context, w io.Writer, opts DemoOptions) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	fams := opts.Families
	if len(fams) == 0 {
		fams = measures.Families
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}

	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		return err
	}
	defer db.Close()
	model := fixture.Generate(1, fixture.Tiny, now, fixture.WithAdvancedPerfs())
	if err := model.Load(ctx, db, "sqlite", "mdl_"); err != nil {
		return fmt.Errorf("demo: load the synthetic site: %w", err)
	}
	dirroot, dataroot, err := demoDirectories(model, now)
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(dirroot))

	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	client, err := sender.NewClient(sender.Options{Servers: []string{trapper.Addr}})
	if err != nil {
		return err
	}
	deliverer := &Deliverer{Sender: PlainSender{S: client}, Logger: log}
	runner := &measures.Runner{Registry: opts.Registry, Logger: log}
	site := &measures.Site{
		Name: "demo", Host: DemoHost, DB: db, Dialect: measures.SQLite, Prefix: "mdl_", Location: loc,
		Courses:  measures.CourseSelection{IDNumbers: []string{fixture.PhysicsIDNumber}},
		Dirroot:  dirroot,
		Dataroot: dataroot,
	}

	fmt.Fprintf(w, "moodle-zabbix demo: a synthetic Moodle site (%d users, %d courses, %d log rows) in an in-memory SQLite database,\n",
		len(model.Users), len(model.Courses), len(model.Logs))
	fmt.Fprintf(w, "measured at %s and sent with the Zabbix sender protocol to an in-process trapper at %s.\n",
		now.In(loc).Format("2006-01-02 15:04:05 MST"), trapper.Addr)

	total, failures := 0, 0
	for _, fam := range fams {
		before := len(trapper.Items())
		b := runner.Run(ctx, site, fam, now)
		d := deliverer.Deliver(ctx, DemoHost, b)
		received := trapper.Items()[before:]
		total += len(received)
		failures += b.FailedKeys()
		printFamily(w, b, d, received)
	}
	fmt.Fprintf(w, "\n%d values received by the trapper for host %q; %d measures failed.\n", total, DemoHost, failures)
	if failures > 0 {
		return fmt.Errorf("demo: %d measures failed", failures)
	}
	return nil
}

// demoDirectories makes a Moodle code directory whose version.php matches the database, and a
// data directory with one backup in progress, for the measures read from disk.
func demoDirectories(m *fixture.Model, now time.Time) (dirroot, dataroot string, err error) {
	top, err := os.MkdirTemp("", "moodle-zabbix-demo-")
	if err != nil {
		return "", "", fmt.Errorf("demo: %w", err)
	}
	dirroot, dataroot = filepath.Join(top, "moodle"), filepath.Join(top, "moodledata")
	version, _ := m.ConfigValue("version")
	backup := filepath.Join(dataroot, "temp", "backup", "4d1e2f3a")
	if err := os.MkdirAll(dirroot, 0o700); err != nil {
		return "", "", fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(backup, 0o700); err != nil {
		return "", "", fmt.Errorf("demo: %w", err)
	}
	php := "<?php\n$version  = " + version + ";\n$release  = '4.3 (Build: 20231009)';\n"
	if err := os.WriteFile(filepath.Join(dirroot, "version.php"), []byte(php), 0o600); err != nil {
		return "", "", fmt.Errorf("demo: %w", err)
	}
	_ = os.Chtimes(backup, now, now)
	return dirroot, dataroot, nil
}

func printFamily(w io.Writer, b *measures.Burst, d Delivery, received []sender.Item) {
	fmt.Fprintf(w, "\n== %s: window %s to %s, every value stamped %s\n", b.Family,
		b.Window.From.Format(time.RFC3339), b.Window.To.Format(time.RFC3339), b.Window.Clock().Format(time.RFC3339))
	var plain, lld []sender.Item
	for _, it := range received {
		if strings.HasPrefix(it.Key, "moodle.discovery.") {
			lld = append(lld, it)
		} else {
			plain = append(plain, it)
		}
	}
	sort.SliceStable(plain, func(i, j int) bool { return plain[i].Key < plain[j].Key })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tVALUE\tCLOCK")
	for _, it := range plain {
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", it.Key, shorten(it.Value, 60), it.Clock)
	}
	tw.Flush()
	for _, it := range lld {
		var pretty []map[string]string
		_ = json.Unmarshal([]byte(it.Value), &pretty)
		fmt.Fprintf(w, "  LLD %s (%d entities): %s\n", it.Key, len(pretty), it.Value)
	}
	for _, s := range b.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", s.Key, s.Reason)
	}
	for _, f := range b.Failures {
		fmt.Fprintf(w, "  FAILED %v\n", f)
	}
	fmt.Fprintf(w, "  trapper: %s\n", d)
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
