package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/provision"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

// DefaultSiteGroup is the host group of Moodle site hosts when a site names none.
const DefaultSiteGroup = "Moodle sites"

// newAPI builds a Zabbix API client from the configuration, or nil when none is configured.
func newAPI(cfg *config.Config) (*zabbixapi.Client, error) {
	a := cfg.Zabbix.API
	if a == nil || a.URL == "" {
		return nil, nil
	}
	c, err := zabbixapi.New(a.URL, zabbixapi.Options{
		Token: a.Token.Reveal(), Username: a.Username, Password: a.Password.Reveal(), InsecureSkipVerify: a.InsecureSkipVerify,
	})
	if err != nil {
		return nil, fmt.Errorf("zabbix.api: %w", err)
	}
	return c, nil
}

// exportVersion picks the template export format a server imports best.
func exportVersion(v zabbixapi.Version) string {
	switch {
	case v.AtLeast(7, 0):
		return "7.0"
	case v.AtLeast(6, 4):
		return "6.4"
	case v.AtLeast(6, 2):
		return "6.2"
	}
	return "6.0"
}

// InstallPlan builds what install provisions: every template in the server's format, the
// host groups, one host per site linked to the core templates ("Moodle", "Moodle performance")
// plus the templates the site lists (contrib packs) with its macros, and one host per fleet
// linked to the fleet template.
//
// It refuses, before anything reaches the API, host names that collide with a template's name
// or with each other (config.CheckNames).
func InstallPlan(cfg *config.Config, reg *measures.Registry, zabbixVersion string) (provision.Plan, error) {
	if err := cfg.CheckNames(TemplateNames(reg)); err != nil {
		return provision.Plan{}, err
	}
	fleetGroup := DefaultSiteGroup
	if len(cfg.Fleets) > 0 {
		fleetGroup = cfg.Fleets[0].Group
	}
	exp, err := templates.Build(reg, templates.Options{ZabbixVersion: zabbixVersion, FleetGroup: fleetGroup, FleetPacks: fleetPacks(cfg)})
	if err != nil {
		return provision.Plan{}, err
	}
	yaml, err := exp.YAML()
	if err != nil {
		return provision.Plan{}, err
	}
	plan := provision.Plan{TemplateYAML: yaml}
	groups := map[string]bool{}
	// Every site gets the core templates; a contrib pack's template only where the site lists
	// it (its plugin is installed there), or its nodata triggers would fire.
	siteTemplates := []string{measures.DefaultTemplate, measures.PerformanceTemplate}
	known := map[string]bool{}
	for _, n := range reg.Templates() {
		known[n] = true
	}
	for i, s := range cfg.Sites {
		for _, n := range s.Templates {
			if !known[n] {
				return provision.Plan{}, fmt.Errorf("%s: sites[%d].templates: no template %q is generated (have %s)", cfg.File(), i, n, strings.Join(reg.Templates(), ", "))
			}
		}
	}
	for _, s := range cfg.Sites {
		gs := s.Groups
		if len(gs) == 0 {
			gs = []string{DefaultSiteGroup}
		}
		for _, g := range gs {
			groups[g] = true
		}
		tpls := append(append([]string(nil), siteTemplates...), s.Templates...)
		plan.Hosts = append(plan.Hosts, provision.HostSpec{
			Host: s.Host, VisibleName: s.Host, Groups: gs, Templates: tpls, Macros: s.Macros,
			Description: "Moodle site " + s.Name + ", measured by moodle-zabbix.",
		})
	}
	for _, f := range cfg.Fleets {
		groups[f.Group] = true
		hostGroups := f.HostGroups
		if len(hostGroups) == 0 {
			hostGroups = []string{config.DefaultFleetHostGroup}
		}
		for _, g := range hostGroups {
			groups[g] = true
		}
		plan.Hosts = append(plan.Hosts, provision.HostSpec{
			Host: f.Host, VisibleName: f.VisibleName(), Groups: hostGroups, Templates: []string{templates.FleetTemplate},
			Macros:      map[string]string{templates.FleetGroupMacro: f.Group},
			Description: "Moodle fleet: aggregates the Moodle sites of host group " + f.Group + ".",
		})
		// Zabbix 7.0 has widgets that rank and grid the hosts of a group (Top hosts,
		// Honeycomb); they live on a global dashboard per fleet.
		if zabbixVersion == "7.0" {
			plan.Dashboards = append(plan.Dashboards, fleetDashboard(&f, reg))
		}
	}
	for g := range groups {
		plan.HostGroups = append(plan.HostGroups, g)
	}
	sort.Strings(plan.HostGroups)
	return plan, nil
}

// TemplateNames lists the templates install imports: the registry's and the fleet template.
func TemplateNames(reg *measures.Registry) []string {
	return append(reg.Templates(), templates.FleetTemplate)
}

// fleetPacks lists the contrib templates some site of some fleet links (sites[].templates of the
// sites in a fleet's group), so that the fleet template aggregates only measures some site sends.
// With no fleet it is nil: every pack, as the templates command writes them.
func fleetPacks(cfg *config.Config) []string {
	if len(cfg.Fleets) == 0 {
		return nil
	}
	packs := []string{}
	for _, s := range cfg.Sites {
		gs := s.Groups
		if len(gs) == 0 {
			gs = []string{DefaultSiteGroup}
		}
		inFleet := false
		for _, f := range cfg.Fleets {
			inFleet = inFleet || slices.Contains(gs, f.Group)
		}
		if !inFleet {
			continue
		}
		for _, t := range s.Templates {
			if !slices.Contains(packs, t) {
				packs = append(packs, t)
			}
		}
	}
	sort.Strings(packs)
	return packs
}

func cmdInstall(ctx context.Context, env *cliEnv, args []string) (code int) {
	fs := newFlags(env, "install")
	cfgPath := fs.String("config", defaultConfigPath(), "configuration file (or $MOODLE_ZABBIX_CONFIG)")
	dryRun := fs.Bool("dry-run", false, "show what would change (configuration.importcompare) without changing anything")
	backfill := fs.Bool("backfill", false, "then compute and send past periods (12 months, 26 weeks, 90 days, 7 days of hours) so new hosts start with history")
	pause := fs.Duration("pause", time.Second, "with --backfill: pause between two periods")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *backfill && !*dryRun {
		defer func() {
			if code == ExitOK {
				code = installBackfill(ctx, env, *cfgPath, *pause)
			}
		}()
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix install: %v\n", err)
		return ExitFailure
	}
	// Refused here rather than by the API halfway through the install.
	if err := cfg.CheckNames(TemplateNames(catalogue.Registry())); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix install: %v\n", err)
		return ExitFailure
	}
	api, err := newAPI(cfg)
	if err != nil || api == nil {
		if err == nil {
			err = fmt.Errorf("%s: zabbix.api.url is not set", *cfgPath)
		}
		fmt.Fprintf(env.stderr, "moodle-zabbix install: %v\n", err)
		return ExitFailure
	}
	v, err := api.Version(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix install: %v\n", err)
		return ExitFailure
	}
	cat, err := LoadCatalogues(cfg, catalogue.Registry())
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix install: %v\n", err)
		return ExitFailure
	}
	plan, err := InstallPlan(withCustomTemplates(cfg, cat), cat.All, exportVersion(v))
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix install: %v\n", err)
		return ExitFailure
	}
	rep, err := provision.Install(ctx, api, plan, provision.Options{DryRun: *dryRun, Logger: env.logger})
	for _, l := range rep.Lines() {
		fmt.Fprintln(env.stdout, l)
	}
	_ = api.Logout(context.WithoutCancel(ctx))
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix install: %v\n", err)
		return ExitFailure
	}
	if !rep.Changed() {
		fmt.Fprintln(env.stdout, "nothing to change")
	} else if !*backfill && !*dryRun {
		fmt.Fprintln(env.stdout, "new hosts start without history: 'moodle-zabbix install --backfill' computes and sends the past months, weeks, days and hours")
	}
	return ExitOK
}

func cmdCheck(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "check")
	cfgPath := fs.String("config", defaultConfigPath(), "configuration file (or $MOODLE_ZABBIX_CONFIG)")
	siteName := fs.String("site", "", "check only this site (default: every site)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix check: %v\n", err)
		return ExitFailure
	}
	if err := cfg.CheckNames(TemplateNames(catalogue.Registry())); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix check: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintf(env.stdout, "ok   config: %s\n", *cfgPath)
	if !checkStateDir(env, cfg) {
		return ExitFailure
	}
	api, err := newAPI(cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix check: %v\n", err)
		return ExitFailure
	}
	if api != nil {
		defer api.Logout(context.WithoutCancel(ctx))
	}
	snd, err := newSender(cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix check: %v\n", err)
		return ExitFailure
	}
	client, ok := snd.(*sender.Client)
	if !ok {
		fmt.Fprintln(env.stdout, "skip trapper: zabbix.output writes a zabbix_sender file; check it with zabbix_sender itself")
	}
	for i := range cfg.Sites {
		sc := &cfg.Sites[i]
		if *siteName != "" && sc.Name != *siteName {
			continue
		}
		s, err := openSite(sc, cfg.Scale.IdleConnections)
		if err != nil {
			fmt.Fprintf(env.stdout, "FAIL site %s: %v\n", sc.Name, err)
			return ExitFailure
		}
		fmt.Fprintf(env.stdout, "== site %s (Zabbix host %s)\n", sc.Name, sc.Host)
		in := provision.CheckInput{DB: s.db, Dialect: s.site.Dialect, Prefix: sc.Prefix, Host: sc.Host, Sender: client, Now: time.Now}
		if api != nil {
			in.API = api
		}
		err = provision.Check(ctx, in, env.stdout)
		s.db.Close()
		if err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix check: site %s: %v\n", sc.Name, err)
			return ExitFailure
		}
	}
	return ExitOK
}
