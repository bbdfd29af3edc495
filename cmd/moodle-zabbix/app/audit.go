package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The audit command computes a site's families as a run would, sends nothing, and prints every
// key and value that would leave the site, then what the discovery rules kept back: entities
// below the k-threshold, entities beyond a rule's cap, and "other" entities withheld.

func cmdAudit(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "audit")
	cfgPath := fs.String("config", defaultConfigPath(), "configuration file (or $MOODLE_ZABBIX_CONFIG)")
	family := fs.String("family", "", "audit only this family (default: all five)")
	siteName := fs.String("site", "", "audit only this site (default: every site)")
	at := fs.String("at", "", "audit as if it were this time (RFC 3339)")
	demo := fs.Bool("demo", false, "audit the built-in demo site instead of the configured sites")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fams := measures.Families
	if *family != "" {
		f, err := measures.ParseFamily(*family)
		if err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix audit: --family: %v\n", err)
			return ExitFailure
		}
		fams = []measures.Family{f}
	}
	now := time.Now()
	if *at != "" {
		var err error
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix audit: --at %q: %v\n", *at, err)
			return ExitFailure
		}
	}
	if *demo {
		if err := AuditDemo(ctx, env.stdout, now, fams, env.logger); err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix audit: %v\n", err)
			return ExitFailure
		}
		return ExitOK
	}
	rt, code := loadRuntime(env, *cfgPath)
	if rt == nil {
		return code
	}
	defer rt.Close()
	sites, ok := rt.selectSites(env, "audit", *siteName)
	if !ok {
		return ExitFailure
	}
	exit := ExitOK
	for _, name := range sites {
		sc, _ := rt.cfg.Site(name)
		writeAuditHeader(env.stdout, name, sc.Host, sc.Discovery.KThreshold, sc.Discovery.CategoryDepth)
		for _, f := range fams {
			o := rt.RunFamily(ctx, name, f, now, true)
			if o.Err != nil {
				fmt.Fprintf(env.stderr, "moodle-zabbix audit: %s: %v\n", name, o.Err)
				exit = ExitFailure
				continue
			}
			WriteAudit(env.stdout, sc.Host, o.Burst)
			if o.Burst.FailedKeys() > 0 {
				exit = worse(exit, ExitSomeFail)
			}
		}
	}
	return exit
}

func writeAuditHeader(w io.Writer, site, host string, k, depth int) {
	fmt.Fprintf(w, "audit of site %s (Zabbix host %s): k-threshold %d, category depth %d\n", site, host, k, depth)
	fmt.Fprintln(w, "Nothing is sent. Every line under \"leaves the site\" is a key and value a run would send.")
}

// WriteAudit prints a burst as the audit shows it: the values that would leave the site for
// host, sorted by key, then what each discovery rule kept on the site, skips and failures.
func WriteAudit(w io.Writer, host string, b *measures.Burst) {
	items := Items(host, b.Values)
	fmt.Fprintf(w, "\n== %s, window %s to %s: %d values leave the site, stamped %d\n", b.Family,
		b.Window.From.Format(time.RFC3339), b.Window.To.Format(time.RFC3339), len(items), b.Window.Clock().Unix())
	sort.SliceStable(items, func(i, j int) bool { return items[i].Key < items[j].Key })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, it := range items {
		fmt.Fprintf(tw, "  %s\t%s\n", it.Key, strings.ReplaceAll(it.Value, "\n", `\n`))
	}
	tw.Flush()
	gov := append([]measures.RuleGovernance(nil), b.Governance...)
	sort.Slice(gov, func(i, j int) bool { return gov[i].Rule < gov[j].Rule })
	for _, g := range gov {
		if g.Rule == "" {
			continue
		}
		fmt.Fprintf(w, "  kept on the site by %s: %d found, %d reported on their own (cap %d, k %d)\n",
			g.Rule, g.Found, len(g.Kept), g.Cap, g.K)
		for _, f := range g.Suppressed {
			fmt.Fprintf(w, "    suppressed %s: population %g is below k\n", entityText(f), f.Population)
		}
		for _, f := range g.Capped {
			fmt.Fprintf(w, "    beyond the cap %s: population %g\n", entityText(f), f.Population)
		}
		switch {
		case g.Other:
			fmt.Fprintf(w, "    their values are sent together as entity %q\n", measures.OtherID)
		case g.Withheld:
			fmt.Fprintf(w, "    their values are withheld: together they are not provably %d people or more\n", g.K)
		}
		if len(g.Capped) > 0 {
			fmt.Fprintf(w, "    WARNING: %d items without the cap, %d allowed\n", g.Items(), (g.Cap+1)*g.Prototypes)
		}
	}
	for _, s := range b.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", s.Key, s.Reason)
	}
	for _, f := range b.Failures {
		fmt.Fprintf(w, "  FAILED %v\n", f)
	}
}

func entityText(f measures.Folded) string {
	if f.Label == "" {
		return fmt.Sprintf("%q", f.ID)
	}
	return fmt.Sprintf("%q (%s)", f.ID, f.Label)
}

// AuditDemo audits the built-in demo site (the one the demo command measures) at now.
func AuditDemo(ctx context.Context, w io.Writer, now time.Time, fams []measures.Family, log *slog.Logger) error {
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
	site := &measures.Site{
		Name: "demo", Host: DemoHost, DB: db, Dialect: measures.SQLite, Prefix: "mdl_", Location: time.UTC,
		Courses: measures.CourseSelection{IDNumbers: []string{fixture.PhysicsIDNumber}},
		Dirroot: dirroot, Dataroot: dataroot,
	}
	writeAuditHeader(w, site.Name, site.Host, config.DefaultKThreshold, config.DefaultCategoryDepth)
	runner := &measures.Runner{Registry: catalogue.Registry(), Logger: log}
	var errs []error
	for _, f := range fams {
		b := runner.Run(ctx, site, f, now)
		WriteAudit(w, site.Host, b)
		if err := b.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkCaps refuses a discovery cap on a rule the catalogue does not have.
func checkCaps(cfg *config.Config, reg *measures.Registry) error {
	known := map[string]bool{}
	for _, d := range reg.Discoveries() {
		known[d.Key] = true
	}
	var errs []error
	for i, s := range cfg.Sites {
		keys := make([]string, 0, len(s.Discovery.Caps))
		for k := range s.Discovery.Caps {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !known[k] {
				errs = append(errs, fmt.Errorf("%s: sites[%d].discovery.caps: %q is not a discovery rule (see 'moodle-zabbix measures')", cfg.File(), i, k))
			}
		}
	}
	return errors.Join(errs...)
}
