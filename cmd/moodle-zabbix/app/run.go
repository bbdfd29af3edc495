package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/scheduler"
)

// DefaultConfigPath is where the configuration is read from when --config is not given.
const DefaultConfigPath = "/etc/moodle-zabbix/config.yaml"

func defaultConfigPath() string {
	if p := os.Getenv("MOODLE_ZABBIX_CONFIG"); p != "" {
		return p
	}
	return DefaultConfigPath
}

func loadRuntime(env *cliEnv, path string) (*Runtime, int) {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
		return nil, ExitFailure
	}
	if err := applyShard(cfg, env.shard); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
		return nil, ExitFailure
	}
	if err := checkDisabled(cfg, catalogue.Registry()); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
		return nil, ExitFailure
	}
	rt, err := NewRuntime(cfg, catalogue.Registry(), env.logger)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %s: %v\n", path, err)
		return nil, ExitFailure
	}
	return rt, ExitOK
}

func cmdRun(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "run")
	cfgPath := fs.String("config", defaultConfigPath(), "configuration file (or $MOODLE_ZABBIX_CONFIG)")
	family := fs.String("family", "", "family to run: instant, hourly, daily, weekly or monthly (required)")
	siteName := fs.String("site", "", "run only this site (default: every site)")
	dryRun := fs.Bool("dry-run", false, "compute and print the values without sending them")
	verbose := fs.Bool("v", false, "print every value sent")
	at := fs.String("at", "", "run as if it were this time (RFC 3339), to catch up a missed period")
	fs.StringVar(&env.shard, "shard", "", "run only the sites of this shard: I/N (by name hash) or a shard label")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *family == "" {
		fmt.Fprintln(env.stderr, "moodle-zabbix run: --family is required (instant, hourly, daily, weekly or monthly)")
		return ExitFailure
	}
	f, err := measures.ParseFamily(*family)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix run: --family: %v\n", err)
		return ExitFailure
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix run: --at %q: %v\n", *at, err)
			return ExitFailure
		}
	}
	rt, code := loadRuntime(env, *cfgPath)
	if rt == nil {
		return code
	}
	defer rt.Close()
	sites := rt.Sites()
	if *siteName != "" {
		if _, ok := rt.cfg.Site(*siteName); !ok {
			fmt.Fprintf(env.stderr, "moodle-zabbix run: --site %q: %v in %s (have %v)\n", *siteName, errNoSite, *cfgPath, sites)
			return ExitFailure
		}
		sites = []string{*siteName}
	}
	rt.SetValuesOutput(env.stdout)
	report := env.stdout
	if rt.cfg.Zabbix.SenderFile() == "-" {
		report = env.stderr // standard output carries the values for zabbix_sender
	}
	exit := ExitOK
	for _, name := range sites {
		o := rt.RunFamily(ctx, name, f, now, *dryRun)
		printOutcome(report, o, *dryRun, *verbose || *dryRun)
		exit = worse(exit, o.ExitCode())
	}
	return exit
}

// worse returns the more serious of two exit statuses (1 beats 2 beats 0).
func worse(a, b int) int {
	rank := map[int]int{ExitOK: 0, ExitSomeFail: 1, ExitFailure: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func printOutcome(w io.Writer, o Outcome, dryRun, values bool) {
	b := o.Burst
	fmt.Fprintf(w, "%s %s %s..%s: %d values, %d measures failed, %d skipped",
		o.Site, o.Family, b.Window.From.Format(time.RFC3339), b.Window.To.Format(time.RFC3339),
		len(b.Values), b.FailedKeys(), len(b.Skipped))
	if dryRun {
		fmt.Fprintln(w, " (dry run: nothing sent)")
	} else {
		fmt.Fprintf(w, "; %s\n", o.Delivery)
	}
	for _, f := range b.Failures {
		fmt.Fprintf(w, "  measure failed: %v\n", f)
	}
	for _, k := range o.Delivery.FailedKeys {
		fmt.Fprintf(w, "  refused by Zabbix: %s\n", k)
	}
	for i, l := range o.Diagnosis {
		if i == 20 {
			fmt.Fprintf(w, "  diagnosis: ... and %d more\n", len(o.Diagnosis)-i)
			break
		}
		fmt.Fprintf(w, "  diagnosis: %s\n", l)
	}
	if b.Unreachable != nil {
		fmt.Fprintf(w, "  database unreachable: %v\n", b.Unreachable)
	}
	if o.Err != nil {
		fmt.Fprintf(w, "  delivery: %v\n", o.Err)
	}
	if values {
		vals := append([]measures.Value(nil), b.Values...)
		sort.SliceStable(vals, func(i, j int) bool { return vals[i].Key < vals[j].Key })
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, v := range vals {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", v.Key, shorten(v.Value, 80), v.Clock.Unix())
		}
		tw.Flush()
	}
}

func cmdDaemon(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "daemon")
	cfgPath := fs.String("config", defaultConfigPath(), "configuration file (or $MOODLE_ZABBIX_CONFIG)")
	fs.StringVar(&env.shard, "shard", "", "run only the sites of this shard: I/N (by name hash) or a shard label")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	rt, code := loadRuntime(env, *cfgPath)
	if rt == nil {
		return code
	}
	defer rt.Close()
	if err := RunDaemon(ctx, rt, env.logger); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix daemon: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

// RunDaemon schedules every family of every site on its cron specification in the site's time
// zone and runs until ctx is cancelled. Runs of the same entry never overlap; a site that keeps
// failing is retried on later ticks with backoff, and never holds up the other sites.
func RunDaemon(ctx context.Context, rt *Runtime, log *slog.Logger) error {
	s, err := DaemonScheduler(rt, log)
	if err != nil {
		return err
	}
	for _, e := range s.Entries() {
		log.Info("scheduled", "entry", e.Name, "spec", e.Spec, "next", e.Next.Format(time.RFC3339))
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	<-s.Stop().Done()
	return nil
}

// DaemonScheduler returns a scheduler with one entry per site and family, named
// "<site>/<family>", each running that family for that site when it fires.
func DaemonScheduler(rt *Runtime, log *slog.Logger) (*scheduler.Scheduler, error) {
	s := scheduler.New(scheduler.Options{Logger: log})
	for _, sr := range rt.sites {
		for _, f := range measures.Families {
			name := sr.cfg.Name + "/" + f.String()
			siteName, fam := sr.cfg.Name, f
			spec := rt.cfg.Schedule(f.String())
			job := func(ctx context.Context, fired time.Time) error {
				o := rt.RunFamily(ctx, siteName, fam, fired, false)
				attrs := []any{"site", siteName, "family", fam.String(), "values", len(o.Burst.Values), "delivery", o.Delivery.String()}
				if o.ExitCode() == ExitOK {
					log.Info("family run", attrs...)
					return nil
				}
				log.Warn("family run", append(attrs, "measures_failed", o.Burst.FailedKeys(), "err", o.Err)...)
				if o.Err != nil {
					return o.Err
				}
				if o.Burst.Unreachable != nil {
					return fmt.Errorf("site %s: %w", siteName, o.Burst.Unreachable) // back off
				}
				return nil
			}
			job = rt.paced(siteName, spec, sr.cfg.Location(), job)
			if err := s.AddWithBackoff(name, spec, sr.cfg.Location(), scheduler.Backoff{After: 2}, job); err != nil {
				return nil, fmt.Errorf("schedule %s (%q): %w", name, spec, err)
			}
		}
	}
	return s, nil
}

// checkDisabled refuses disabled_measures entries that name no measure or discovery rule, so a
// typo does not silently keep a measure running.
func checkDisabled(cfg *config.Config, reg *measures.Registry) error {
	known := map[string]bool{}
	for _, m := range reg.Measures() {
		known[m.Key] = true
	}
	for _, d := range reg.Discoveries() {
		known[d.Key] = true
	}
	var errs []error
	for i, s := range cfg.Sites {
		for _, k := range s.DisabledMeasures {
			if !known[k] {
				errs = append(errs, fmt.Errorf("%s: sites[%d].disabled_measures: %q is not a measure key (see 'moodle-zabbix measures')", cfg.File(), i, k))
			}
		}
	}
	return errors.Join(errs...)
}
