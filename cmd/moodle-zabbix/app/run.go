package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
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
	cat, err := LoadCatalogues(cfg, catalogue.Registry())
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
		return nil, ExitFailure
	}
	if err := checkDisabled(cfg, cat.All); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
		return nil, ExitFailure
	}
	if err := checkCaps(cfg, cat.All); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
		return nil, ExitFailure
	}
	rt, err := NewRuntime(cfg, cat.All, env.logger)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix: %s: %v\n", path, err)
		return nil, ExitFailure
	}
	rt.useSiteRegistries(cat)
	return rt, ExitOK
}

func cmdRun(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "run")
	cfgPath := fs.String("config", defaultConfigPath(), "configuration file (or $MOODLE_ZABBIX_CONFIG)")
	family := fs.String("family", "", "family to run: instant, hourly, daily, weekly or monthly (required)")
	siteName := fs.String("site", "", "run only this site (default: every site)")
	dryRun := fs.Bool("dry-run", false, "compute and print the values without sending them")
	verbose := fs.Bool("v", false, "say what was done, with every value sent (silent on success otherwise)")
	at := fs.String("at", "", "run as if it were this time, to catch up a missed period: a date (2026-12-01, midnight in the site's time zone) or RFC 3339")
	force := fs.Bool("force", false, "send a period even when the delivery ledger says it was delivered")
	from := fs.String("from", "", "backfill: compute every period from this date or time (with --to)")
	to := fs.String("to", "", "backfill: up to this date or time, excluded (default: now)")
	pause := fs.Duration("pause", time.Second, "backfill: pause between two periods, to bound the load on the database and Zabbix")
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
	args3 := map[string]*timeArg{}
	for name, text := range map[string]string{"at": *at, "from": *from, "to": *to} {
		if text == "" {
			continue
		}
		a, err := parseTimeArg(name, text, now)
		if err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix run: %v\n", err)
			return ExitFailure
		}
		args3[name] = &a
	}
	bf := backfillRequest{from: args3["from"], to: args3["to"], pause: *pause}
	if bf.from == nil && bf.to != nil || bf.from != nil && args3["at"] != nil {
		fmt.Fprintln(env.stderr, "moodle-zabbix run: --to needs --from (a backfill), and --at cannot be used with --from")
		return ExitFailure
	}
	if bf.from != nil && f == measures.Instant {
		fmt.Fprintln(env.stderr, "moodle-zabbix run: --from: instant values describe the present and cannot be backfilled; use hourly, daily, weekly or monthly")
		return ExitFailure
	}
	env.logger = runLogger(env, *verbose)
	rt, code := loadRuntime(env, *cfgPath)
	if rt == nil {
		return code
	}
	defer rt.Close()
	sites, ok := rt.selectSites(env, "run", *siteName)
	if !ok {
		return ExitFailure
	}
	if !*dryRun {
		if err := rt.PrepareStateDir(); err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix: %v\n", err)
			return ExitFailure
		}
	}
	rt.SetValuesOutput(env.stdout)
	report := env.stdout
	if rt.cfg.Zabbix.SenderFile() == "-" {
		report = env.stderr // standard output carries the values for zabbix_sender
	}
	w := outcomeWriter{report: report, problems: env.stderr, verbose: *verbose, dryRun: *dryRun}
	opts := RunOptions{DryRun: *dryRun, Force: *force}
	exit := ExitOK
	for _, name := range sites {
		loc := rt.site(name).site.Location
		if loc == nil {
			loc = time.UTC
		}
		if bf.from != nil {
			exit = worse(exit, rt.backfill(ctx, name, f, bf, opts, w))
			continue
		}
		when := now
		if a := args3["at"]; a != nil {
			if when, err = a.in(loc, now); err != nil {
				fmt.Fprintf(env.stderr, "moodle-zabbix run: site %s: %v\n", name, err)
				exit = worse(exit, ExitFailure)
				continue
			}
		}
		o := rt.Run(ctx, name, f, when, opts)
		w.write(o)
		exit = worse(exit, o.ExitCode())
	}
	return exit
}

// runLogger is the logger of a run: warnings only, so cron mails nothing when all is well,
// unless -v or MOODLE_ZABBIX_LOG asks for more.
func runLogger(env *cliEnv, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	if v := os.Getenv("MOODLE_ZABBIX_LOG"); v != "" {
		level = logLevel()
	}
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
}

// outcomeWriter prints outcomes for cron: problems on standard error, one line each; the
// summary and the values only with -v or a dry run.
type outcomeWriter struct {
	report, problems io.Writer
	verbose, dryRun  bool
}

func (w outcomeWriter) write(o Outcome) {
	printProblems(w.problems, o)
	if w.verbose || w.dryRun {
		fmt.Fprintln(w.report, o.Summary(w.dryRun))
		printValues(w.report, o)
	}
}

// worse returns the more serious of two exit statuses (1 beats 2 beats 0).
func worse(a, b int) int {
	rank := map[int]int{ExitOK: 0, ExitSomeFail: 1, ExitFailure: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
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
	if err := rt.PrepareStateDir(); err != nil {
		return err
	}
	s, err := DaemonScheduler(rt, log)
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	entries := s.Entries()
	log.Info("daemon started", "version", Version, "sites", len(rt.sites), "entries", len(entries), "state", rt.StateDir())
	for _, e := range entries {
		log.Info("scheduled", "entry", e.Name, "spec", e.Spec, "zone", e.Location.String(), "next", e.Next.Format(time.RFC3339))
	}
	<-ctx.Done()
	log.Info("daemon stopping: waiting for running bursts", "reason", context.Cause(ctx))
	<-s.Stop().Done()
	log.Info("daemon stopped")
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
				for _, p := range o.Problems() {
					log.Warn(p, "site", siteName, "family", fam.String(), "period", periodName(o))
				}
				log.Info("family run", append(attrs, "measures_failed", o.Burst.FailedKeys())...)
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

// selectSites returns the sites a command runs for: all of them, or the one --site names. An
// unknown name gets one line naming it, the configuration file and the sites it has.
func (rt *Runtime) selectSites(env *cliEnv, cmd, name string) ([]string, bool) {
	sites := rt.Sites()
	if name == "" {
		return sites, true
	}
	if _, ok := rt.cfg.Site(name); !ok {
		fmt.Fprintf(env.stderr, "moodle-zabbix %s: --site %q: %v in %s (have %v)\n", cmd, name, errNoSite, rt.cfg.File(), sites)
		return nil, false
	}
	return []string{name}, true
}
