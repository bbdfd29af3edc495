// Command screenshots fills a Zabbix server with two synthetic Moodle sites (one on MariaDB,
// one on PostgreSQL) and a fleet host, as the end-to-end test does, with several hours and
// days of values, then photographs the site's and the fleet's template dashboards through the
// web frontend with headless Chromium. scripts/screenshots.sh runs it against each test
// server and writes the pictures that docs/templates.md shows.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/moodle-zabbix/moodle-zabbix/cmd/moodle-zabbix/app"
	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

// Names of what the tool creates in Zabbix and in the databases; a rerun replaces them.
const (
	siteGroup = "Moodle screenshot sites"
	hostA     = "moodle-screenshot-a"
	hostB     = "moodle-screenshot-b"
	fleetHost = "moodle-screenshot-fleet"
	fleetName = "Moodle screenshot fleet"
	dbPrefix  = "moodle_screenshot_"
)

type options struct {
	api, server, user, password string
	reload                      string
	mysqlDSN, pgDSN             string
	out, prefix                 string
	chromium                    string
	width, height               int
	skipFill                    bool
}

func main() {
	var o options
	flag.StringVar(&o.api, "api", "", "Zabbix API URL (…/api_jsonrpc.php); the frontend is beside it")
	flag.StringVar(&o.server, "server", "", "Zabbix trapper address host:port")
	flag.StringVar(&o.user, "user", "Admin", "Zabbix user for the API and the frontend")
	flag.StringVar(&o.password, "password", os.Getenv("MZ_SCREENSHOT_PASSWORD"), "its password (default $MZ_SCREENSHOT_PASSWORD)")
	flag.StringVar(&o.reload, "reload", "", "command that reloads the server's configuration cache (space-separated words)")
	flag.StringVar(&o.mysqlDSN, "mysql", os.Getenv("MZ_MYSQL_DSN"), "MariaDB DSN of an account that may create databases")
	flag.StringVar(&o.pgDSN, "pg", os.Getenv("MZ_PG_DSN"), "PostgreSQL URL of an account that may create databases")
	flag.StringVar(&o.out, "out", "docs/img", "directory of the PNG files")
	flag.StringVar(&o.prefix, "prefix", "zabbix", "file name prefix: PREFIX-host.png, PREFIX-fleet.png")
	flag.StringVar(&o.chromium, "chromium", "chromium", "Chromium binary")
	flag.IntVar(&o.width, "width", 1400, "browser window width in pixels")
	flag.IntVar(&o.height, "height", 1300, "browser window height in pixels")
	flag.BoolVar(&o.skipFill, "no-fill", false, "photograph only; the hosts are already filled")
	flag.Parse()
	if o.api == "" || o.server == "" || o.password == "" {
		fmt.Fprintln(os.Stderr, "screenshots: -api, -server and -password (or $MZ_SCREENSHOT_PASSWORD) are required")
		os.Exit(2)
	}
	ctx := context.Background()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	api, err := zabbixapi.New(o.api, zabbixapi.Options{Username: o.user, Password: o.password})
	if err != nil {
		return err
	}
	if err := api.Login(ctx); err != nil {
		return err
	}
	defer api.Logout(context.Background())
	if !o.skipFill {
		if err := fill(ctx, o, api); err != nil {
			return err
		}
	}
	return photograph(ctx, o, api)
}

// ---------------------------------------------------------------- filling

// fill makes the two site databases, installs the hosts and sends values for the past week.
func fill(ctx context.Context, o options, api *zabbixapi.Client) error {
	now := time.Now().Truncate(time.Minute)
	myDSN, err := freshDatabase(ctx, "mysql", o.mysqlDSN, dbPrefix+"my")
	if err != nil {
		return err
	}
	pgDSN, err := freshDatabase(ctx, "postgres", o.pgDSN, dbPrefix+"pg")
	if err != nil {
		return err
	}
	for _, s := range []struct {
		dialect, driver, dsn string
		seed                 int64
	}{{"mysql", "mysql", myDSN, 11}, {"postgres", "pgx", pgDSN, 12}} {
		db, err := sql.Open(s.driver, s.dsn)
		if err != nil {
			return err
		}
		err = fixture.Generate(s.seed, fixture.Tiny, now).Load(ctx, db, s.dialect, "mdl_")
		db.Close()
		if err != nil {
			return fmt.Errorf("load the %s site: %w", s.dialect, err)
		}
	}

	dir, err := os.MkdirTemp("", "moodle-zabbix-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "config.yaml")
	cfgText := fmt.Sprintf(`zabbix:
  servers: [%q]
  spool: {dir: %q}
  api: {url: %q, username: %q, password: "env:MZ_SCREENSHOT_PASSWORD"}
fleets:
  - {name: %q, host: %q, group: %q}
sites:
  - {name: a, host: %q, driver: mysql, dsn: "env:MZ_SCREENSHOT_A_DSN", groups: [%q]}
  - {name: b, host: %q, driver: postgres, dsn: "env:MZ_SCREENSHOT_B_DSN", groups: [%q]}
`, o.server, filepath.Join(dir, "spool"), o.api, o.user, fleetName, fleetHost, siteGroup, hostA, siteGroup, hostB, siteGroup)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return err
	}
	os.Setenv("MZ_SCREENSHOT_PASSWORD", o.password)
	os.Setenv("MZ_SCREENSHOT_A_DSN", myDSN)
	os.Setenv("MZ_SCREENSHOT_B_DSN", pgDSN)

	// A rerun starts from new hosts: values sent again for the same clocks would be duplicates.
	old, err := api.HostGet(ctx, hostA, hostB, fleetHost)
	if err != nil {
		return err
	}
	if len(old) > 0 {
		ids := make([]string, len(old))
		for i, h := range old {
			ids[i] = h.HostID
		}
		if err := api.Call(ctx, "host.delete", ids, nil); err != nil {
			return fmt.Errorf("host.delete: %w", err)
		}
	}
	if code := app.Main(ctx, []string{"install", "--config", cfgPath}, os.Stdout, os.Stderr); code != app.ExitOK {
		return fmt.Errorf("install: exit %d", code)
	}
	if err := reload(o); err != nil {
		return err
	}
	client, err := sender.NewClient(sender.Options{Servers: []string{o.server}})
	if err != nil {
		return err
	}
	for _, h := range []string{hostA, hostB} {
		if err := waitUntil(time.Minute, "the trapper to know "+h, func() bool {
			res, _ := client.Send(ctx, []sender.Item{{Host: h, Key: "moodle.general.instance", Value: "1", Clock: now.Unix() - 8*86400}})
			return res.Processed == 1
		}); err != nil {
			return err
		}
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, err := app.NewRuntime(cfg, catalogue.Registry(), logger)
	if err != nil {
		return err
	}
	defer rt.Close()
	rt.LLDRetry = time.Second
	runs := schedule(now)
	failed := 0
	start := time.Now()
	for _, r := range runs {
		for _, site := range []string{"a", "b"} {
			if o := rt.RunFamily(ctx, site, r.family, r.at, false); o.ExitCode() != app.ExitOK {
				failed++
			}
		}
	}
	fmt.Printf("screenshots: %d runs of 2 sites in %s (%d not fully delivered)\n", len(runs), time.Since(start).Round(time.Second), failed)

	// The fleet's calculated items: computed now rather than at their next interval.
	hosts, err := api.HostGet(ctx, fleetHost)
	if err != nil || len(hosts) != 1 {
		return fmt.Errorf("host.get %s: %d hosts, %v", fleetHost, len(hosts), err)
	}
	items, err := api.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hosts[0].HostID}})
	if err != nil {
		return err
	}
	tasks := make([]map[string]any, len(items))
	for i, it := range items {
		tasks[i] = map[string]any{"type": 6, "request": map[string]any{"itemid": it.ItemID}}
	}
	if err := api.Call(ctx, "task.create", tasks, nil); err != nil {
		return fmt.Errorf("task.create: %w", err)
	}
	time.Sleep(5 * time.Second)
	return nil
}

type familyRun struct {
	at     time.Time
	family measures.Family
}

// schedule is a week of runs, oldest first: daily runs for seven days, hourly runs for a
// day, instant runs every ten minutes for six hours, and one weekly and monthly run.
func schedule(now time.Time) []familyRun {
	var runs []familyRun
	for d := 7; d >= 0; d-- {
		runs = append(runs, familyRun{now.Add(-time.Duration(d) * 24 * time.Hour), measures.Daily})
	}
	for h := 24; h >= 0; h-- {
		runs = append(runs, familyRun{now.Add(-time.Duration(h) * time.Hour), measures.Hourly})
	}
	for m := 360; m >= 0; m -= 10 {
		runs = append(runs, familyRun{now.Add(-time.Duration(m) * time.Minute), measures.Instant})
	}
	runs = append(runs, familyRun{now, measures.Weekly}, familyRun{now, measures.Monthly})
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].at.Before(runs[j].at) })
	return runs
}

// freshDatabase drops and creates the database name on the server of adminDSN and returns its DSN.
func freshDatabase(ctx context.Context, dialect, adminDSN, name string) (string, error) {
	if adminDSN == "" {
		return "", fmt.Errorf("no %s DSN: pass -mysql and -pg, or source .ci/services.env", dialect)
	}
	var driver, dsn string
	var stmts []string
	switch dialect {
	case "mysql":
		cfg, err := mysql.ParseDSN(adminDSN)
		if err != nil {
			return "", fmt.Errorf("mysql dsn: %w", err)
		}
		cfg.DBName = name
		dsn = cfg.FormatDSN()
		cfg.DBName = ""
		driver, adminDSN = "mysql", cfg.FormatDSN()
		stmts = []string{"DROP DATABASE IF EXISTS " + name, "CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"}
	default:
		u, err := url.Parse(adminDSN)
		if err != nil {
			return "", fmt.Errorf("postgres dsn: %w", err)
		}
		u.Path = "/" + name
		driver, dsn = "pgx", u.String()
		stmts = []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name}
	}
	db, err := sql.Open(driver, adminDSN)
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return "", fmt.Errorf("%s: %w", s, err)
		}
	}
	return dsn, nil
}

func reload(o options) error {
	if o.reload == "" {
		return nil
	}
	words := strings.Fields(o.reload)
	if out, err := exec.Command(words[0], words[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", o.reload, err, out)
	}
	return nil
}

func waitUntil(limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// ---------------------------------------------------------------- photographs

// photograph signs in to the frontend, serves it through a local proxy that adds the session
// cookie (Chromium has no flag for cookies), and takes one picture per dashboard.
func photograph(ctx context.Context, o options, api *zabbixapi.Client) error {
	base, err := url.Parse(strings.TrimSuffix(o.api, "api_jsonrpc.php"))
	if err != nil {
		return err
	}
	cookie, err := signIn(ctx, base, o.user, o.password)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(base)
		r.Out.Header.Set("Cookie", cookie)
	}}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: time.Minute}
	go srv.Serve(ln)
	defer srv.Close()

	shots := []struct{ file, host, template string }{
		{o.prefix + "-host.png", hostA, measures.DefaultTemplate},
		{o.prefix + "-fleet.png", fleetHost, templates.FleetTemplate},
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for _, s := range shots {
		hostID, dashboardID, err := dashboardOf(ctx, api, s.host, s.template)
		if err != nil {
			return err
		}
		page := fmt.Sprintf("http://%s%szabbix.php?%s", ln.Addr(), base.Path, url.Values{
			"action": {"host.dashboard.view"}, "hostid": {hostID}, "dashboardid": {dashboardID},
			"from": {"now-24h"}, "to": {"now"}, "kiosk": {"1"},
		}.Encode())
		file := filepath.Join(o.out, s.file)
		if err := capture(ctx, o, page, file); err != nil {
			return fmt.Errorf("%s: %w", s.file, err)
		}
		st, _ := os.Stat(file)
		fmt.Printf("screenshots: %s (%d KB)\n", file, st.Size()/1024)
	}
	// From 7.0, install also makes a global dashboard per fleet that ranks its sites and shows
	// their state as a grid.
	var global []struct {
		DashboardID string `json:"dashboardid"`
	}
	if err := api.Call(ctx, "dashboard.get", map[string]any{
		"output": []string{"dashboardid"}, "filter": map[string]any{"name": "Moodle sites: " + fleetName},
	}, &global); err != nil {
		return fmt.Errorf("dashboard.get: %w", err)
	}
	if len(global) > 0 {
		page := fmt.Sprintf("http://%s%szabbix.php?%s", ln.Addr(), base.Path, url.Values{
			"action": {"dashboard.view"}, "dashboardid": {global[0].DashboardID},
			"from": {"now-24h"}, "to": {"now"}, "kiosk": {"1"},
		}.Encode())
		file := filepath.Join(o.out, o.prefix+"-fleet-sites.png")
		if err := capture(ctx, o, page, file); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		st, _ := os.Stat(file)
		fmt.Printf("screenshots: %s (%d KB)\n", file, st.Size()/1024)
	}
	return nil
}

// signIn posts the frontend's sign-in form and returns the Cookie header of the session.
func signIn(ctx context.Context, base *url.URL, user, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	form := url.Values{"name": {user}, "password": {password}, "enter": {"Sign in"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath("index.php").String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("frontend sign-in: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var parts []string
	for _, ck := range jar.Cookies(base) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if resp.Request.URL.Path == base.JoinPath("index.php").Path || len(parts) == 0 {
		return "", fmt.Errorf("frontend sign-in at %s as %s failed", base, user)
	}
	return strings.Join(parts, "; "), nil
}

// dashboardOf returns the host's id and the id of the dashboard of its template named template.
func dashboardOf(ctx context.Context, api *zabbixapi.Client, host, template string) (string, string, error) {
	hosts, err := api.HostGet(ctx, host)
	if err != nil || len(hosts) != 1 {
		return "", "", fmt.Errorf("host.get %s: %d hosts, %v", host, len(hosts), err)
	}
	var tplID string
	for _, t := range hosts[0].Templates {
		if t.Host == template {
			tplID = t.TemplateID
		}
	}
	if tplID == "" {
		return "", "", fmt.Errorf("host %s is not linked to template %q", host, template)
	}
	var ds []struct {
		DashboardID string `json:"dashboardid"`
	}
	if err := api.Call(ctx, "templatedashboard.get", map[string]any{
		"output": []string{"dashboardid"}, "templateids": tplID, "sortfield": "dashboardid",
	}, &ds); err != nil {
		return "", "", err
	}
	if len(ds) == 0 {
		return "", "", errors.New("template " + template + " has no dashboard")
	}
	return hosts[0].HostID, ds[0].DashboardID, nil
}

// capture loads page in headless Chromium, lets its scripts draw the widgets, and writes the
// picture to file, recompressed.
func capture(ctx context.Context, o options, page, file string) error {
	profile, err := os.MkdirTemp("", "moodle-zabbix-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	raw := file + ".raw.png"
	defer os.Remove(raw)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--hide-scrollbars", "--lang=en-US",
		fmt.Sprintf("--window-size=%d,%d", o.width, o.height), "--virtual-time-budget=20000",
		"--screenshot="+raw, page)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chromium: %w: %s", err, out)
	}
	return recompress(raw, file)
}

// recompress writes the PNG src to dst with the best compression.
func recompress(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	img, err := png.Decode(in)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(out, img); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
