package app

import (
	"context"
	"database/sql"
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

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
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

// demoSite is the name of the demo's one site in its configuration.
const demoSite = "demo"

// Demo builds a small synthetic Moodle in an SQLite database in a temporary directory and runs
// each family once through the runtime the run command uses (delivery ledger, spool, state
// directory and self-monitoring, all in that directory), sending every value with the Zabbix
// sender protocol to an in-process trapper on loopback. It prints what that trapper received,
// family by family: the burst with its discovery data, then the self-monitoring values that
// describe it. It needs nothing installed.
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

	model := fixture.Generate(1, fixture.Tiny, now, fixture.WithAdvancedPerfs())
	dirroot, dataroot, err := demoDirectories(model, now)
	if err != nil {
		return err
	}
	top := filepath.Dir(dirroot)
	defer os.RemoveAll(top)
	dbPath := filepath.Join(top, "moodle.db")
	if err := loadDemoDatabase(ctx, model, dbPath); err != nil {
		return err
	}

	trapper := sendertest.NewServer(nil)
	defer trapper.Close()
	cfg, err := demoConfig(top, trapper.Addr, dbPath, dirroot, dataroot, loc)
	if err != nil {
		return err
	}
	rt, err := NewRuntime(cfg, opts.Registry, log)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer rt.Close()
	if err := rt.PrepareStateDir(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	fmt.Fprintf(w, "moodle-zabbix demo: a synthetic Moodle site (%d users, %d courses, %d log rows) in an SQLite database in a\n",
		len(model.Users), len(model.Courses), len(model.Logs))
	fmt.Fprintf(w, "temporary directory, measured at %s and delivered as 'moodle-zabbix run' delivers (delivery ledger,\n",
		now.In(loc).Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(w, "spool and run state in that directory) with the Zabbix sender protocol to an in-process trapper at %s.\n", trapper.Addr)

	total, failed := 0, 0
	for _, fam := range fams {
		before := len(trapper.Items())
		o := rt.Run(ctx, demoSite, fam, now, RunOptions{})
		received := trapper.Items()[before:]
		total += len(received)
		if o.ExitCode() != ExitOK {
			failed++
		}
		printFamily(w, o, received)
	}
	fmt.Fprintf(w, "\n%d values received by the trapper for host %q; %d of %d runs had problems.\n", total, DemoHost, failed, len(fams))
	if failed > 0 {
		return fmt.Errorf("demo: %d of %d runs had problems", failed, len(fams))
	}
	return nil
}

// loadDemoDatabase writes the synthetic site into a new SQLite database file at path.
func loadDemoDatabase(ctx context.Context, m *fixture.Model, path string) error {
	// The file is thrown away at the end: nothing is gained by waiting for the disk.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=synchronous(off)&_pragma=journal_mode(memory)")
	if err != nil {
		return fmt.Errorf("demo: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := m.Load(ctx, db, "sqlite", "mdl_"); err != nil {
		return fmt.Errorf("demo: load the synthetic site into %s: %w", path, err)
	}
	return db.Close()
}

// demoConfig is the configuration the demo runs with, parsed as the run command parses its
// file: the trapper, a spool and state directory under top, and one SQLite site.
func demoConfig(top, trapper, dbPath, dirroot, dataroot string, loc *time.Location) (*config.Config, error) {
	text := fmt.Sprintf(`zabbix:
  servers: [%q]
  timeout: 5s
  spool:
    dir: %q
sites:
  - name: %s
    host: %s
    driver: sqlite
    dsn: %q
    timezone: %q
    dirroot: %q
    dataroot: %q
    courses_of_interest: [%q]
`, trapper, filepath.Join(top, "spool"), demoSite, DemoHost, dbPath, loc.String(), dirroot, dataroot,
		"idnumber:"+fixture.PhysicsIDNumber)
	noEnv := func(string) (string, bool) { return "", false }
	cfg, err := config.Parse(filepath.Join(top, "demo.yaml"), []byte(text), noEnv)
	if err != nil {
		return nil, fmt.Errorf("demo: configuration: %w", err)
	}
	return cfg, nil
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

// printFamily writes one family's run: the burst's values as the trapper received them, its
// discovery data and delivery, then the self-monitoring values sent right after it, and the
// problem lines run would print.
func printFamily(w io.Writer, o Outcome, received []sender.Item) {
	b := o.Burst
	fmt.Fprintf(w, "\n== %s: window %s to %s, every value stamped %s\n", o.Family,
		b.Window.From.Format(time.RFC3339), b.Window.To.Format(time.RFC3339), b.Window.Clock().Format(time.RFC3339))
	self := map[string]bool{}
	for _, v := range o.Reports {
		self[v.Key] = true
	}
	var plain, lld, reports []sender.Item
	for _, it := range received {
		switch {
		case self[it.Key]:
			reports = append(reports, it)
		case strings.HasPrefix(it.Key, "moodle.discovery."):
			lld = append(lld, it)
		default:
			plain = append(plain, it)
		}
	}
	printItems(w, plain)
	for _, it := range lld {
		var pretty []map[string]string
		_ = json.Unmarshal([]byte(it.Value), &pretty)
		fmt.Fprintf(w, "  LLD %s (%d entities): %s\n", it.Key, len(pretty), it.Value)
	}
	for _, s := range b.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", s.Key, s.Reason)
	}
	fmt.Fprintf(w, "  trapper: %s\n", o.Delivery)
	if o.Ledger != "" {
		fmt.Fprintf(w, "  ledger: %s\n", o.Ledger)
	}
	if len(reports) > 0 {
		fmt.Fprintf(w, "  -- self-monitoring of this run, sent right after it, stamped %s\n",
			time.Unix(reports[0].Clock, 0).In(b.Window.From.Location()).Format(time.RFC3339))
		printItems(w, reports)
		fmt.Fprintf(w, "  trapper: %s\n", o.ReportDelivery)
	}
	for _, p := range o.Problems() {
		fmt.Fprintf(w, "  FAILED %s\n", p)
	}
}

// printItems writes items as a table sorted by key.
func printItems(w io.Writer, items []sender.Item) {
	sort.SliceStable(items, func(i, j int) bool { return items[i].Key < items[j].Key })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tVALUE\tCLOCK")
	for _, it := range items {
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", it.Key, shorten(it.Value, 60), it.Clock)
	}
	tw.Flush()
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
