package app

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/provision"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"

	"github.com/go-sql-driver/mysql"   // MySQL and MariaDB
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL
	_ "modernc.org/sqlite"             // SQLite (demo and tests)
)

// Runtime is what a run or the daemon needs, built from the configuration: one database pool
// per site, the sender, the spool and the self-monitoring state.
type Runtime struct {
	cfg      *config.Config
	registry *measures.Registry
	log      *slog.Logger
	sites    []*siteRuntime
	client   sender.Sender
	spoolDir string
	stateDir string
	// LLDWait and LLDRetry tune the retries of values for freshly discovered items; LLDRetry is
	// also the pause before the spool offers such values again after Zabbix refused them
	// (sender.SpoolOptions.HoldRetry).
	LLDWait, LLDRetry time.Duration

	mu    sync.Mutex // serialises deliveries, so one spool sees one writer at a time
	spool *sender.Spool
	pace  pacer // jitter and global limit of the daemon's bursts
}

// siteRuntime is one configured site with its open database.
type siteRuntime struct {
	cfg    *config.Site
	db     *sql.DB
	site   *measures.Site
	state  *stateFile
	ledger *ledger
	// registry, when set, is the site's own catalogue (the built-in one plus its custom
	// measures); nil runs the runtime's registry.
	registry *measures.Registry
	// replica is the site on its read replica (replica_dsn) for the heavy families, or nil.
	replica *measures.Site
}

// NewRuntime opens every configured site's database pool (without connecting yet) and the
// sender. Nothing secret appears in its errors.
func NewRuntime(cfg *config.Config, reg *measures.Registry, log *slog.Logger) (*Runtime, error) {
	rt := &Runtime{cfg: cfg, registry: reg, log: log}
	_ = mysql.SetLogger(driverLogger{log: log, driver: "mysql"})
	var err error
	if rt.client, err = newSender(cfg); err != nil {
		return nil, err
	}
	if err := rt.routeThroughProxies(); err != nil {
		return nil, err
	}
	if cfg.Zabbix.SenderFile() == "" {
		rt.spoolDir = filepath.Join(cfg.Zabbix.Spool.Dir, destinationName(cfg.Zabbix.Servers))
	}
	rt.stateDir = filepath.Join(cfg.Zabbix.Spool.Dir, "state")
	for i := range cfg.Sites {
		sc := &cfg.Sites[i]
		s, err := openSite(sc, cfg.Scale.IdleConnections)
		if err != nil {
			rt.Close()
			return nil, err
		}
		s.state = &stateFile{path: filepath.Join(rt.stateDir, safeFileName(sc.Name)+".json")}
		s.ledger = &ledger{path: filepath.Join(rt.stateDir, safeFileName(sc.Name)+".ledger.json")}
		s.site.Previous = s.state.previous
		s.site.Memo = &memoFile{path: filepath.Join(rt.stateDir, safeFileName(sc.Name)+".memo.json"), log: log}
		rt.sites = append(rt.sites, s)
	}
	return rt, nil
}

// SetValuesOutput sets where an output of sender-file:- writes the values (standard output
// by default).
func (rt *Runtime) SetValuesOutput(w io.Writer) {
	if fs, ok := rt.client.(*fileSender); ok {
		fs.out = w
	}
}

// Close releases the databases and the spool.
func (rt *Runtime) Close() {
	for _, s := range rt.sites {
		s.db.Close()
		if s.replica != nil {
			s.replica.DB.Close()
		}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.spool != nil {
		rt.spool.Close()
		rt.spool = nil
	}
}

// openSite opens the database pool of a site and describes the site to the runner; the pool
// keeps idle connections open between bursts (0 or 1, scale.idle_connections).
func openSite(sc *config.Site, idle int) (*siteRuntime, error) {
	d, err := measures.ParseDialect(sc.Driver)
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", sc.Name, err)
	}
	db, prepared, err := measures.OpenPool(d, sc.DSN.Reveal(), sc.StatementTimeout)
	if err != nil {
		return nil, fmt.Errorf("site %s: open the %s database (dsn from %s): %s", sc.Name, d, sc.DSN.Ref(), redact(err, sc.DSN.Reveal()))
	}
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(idle) // a connection kept between bursts: a fleet's server holds one per site
	db.SetConnMaxIdleTime(5 * time.Minute)
	ids, idnumbers := sc.CourseIDs()
	disabled := map[string]bool{}
	for _, k := range sc.DisabledMeasures {
		disabled[k] = true
	}
	site := &measures.Site{
		Name: sc.Name, Host: sc.Host, DB: db, Dialect: d, Prefix: sc.Prefix, Location: sc.Location(),
		Roles: measures.RoleMap{
			Students: measures.RoleSet(sc.Roles.Students),
			Teachers: measures.RoleSet(sc.Roles.Teachers),
			Staff:    measures.RoleSet(sc.Roles.Staff),
		},
		Courses:          measures.CourseSelection{IDs: ids, IDNumbers: idnumbers},
		MeasureTimeout:   sc.MeasureTimeout,
		StatementTimeout: sc.StatementTimeout,
		Dataroot:         sc.Dataroot,
		Dirroot:          sc.Dirroot,
		Disabled:         disabled,
		KThreshold:       sc.Discovery.KThreshold,
		Caps:             sc.Discovery.Caps,
		CategoryDepth:    sc.Discovery.CategoryDepth,
		ReuseSessions:    true, // the pool serves the runner alone
		SessionsPrepared: prepared,
	}
	replica, err := openReplica(sc, site)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &siteRuntime{cfg: sc, db: db, site: site, replica: replica}, nil
}

// driverLogger sends a database driver's own messages to the structured log, at debug level:
// the failure they accompany is reported with its measure key anyway.
type driverLogger struct {
	log    *slog.Logger
	driver string
}

// Print logs one driver message.
func (d driverLogger) Print(v ...any) {
	d.log.Debug(strings.TrimSpace(fmt.Sprint(v...)), "driver", d.driver)
}

// redact removes secret strings from an error's text.
func redact(err error, secrets ...string) string {
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

func newSender(cfg *config.Config) (sender.Sender, error) {
	if path := cfg.Zabbix.SenderFile(); path != "" {
		return &fileSender{path: path}, nil
	}
	opts, err := senderOptions(cfg)
	if err != nil {
		return nil, err
	}
	c, err := sender.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("zabbix.servers: %w", err)
	}
	return c, nil
}

// senderOptions are the built-in sender's options from the zabbix section.
func senderOptions(cfg *config.Config) (sender.Options, error) {
	opts := sender.Options{
		Servers: cfg.Zabbix.Servers, Timeout: cfg.Zabbix.Timeout, BatchSize: cfg.Zabbix.BatchSize,
		Compress: cfg.Zabbix.Compress,
	}
	if t := cfg.Zabbix.TLS; t != nil {
		tc, err := sender.TLSConfig(sender.TLSOptions{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
			ServerName: t.ServerName, ServerCertIssuer: t.ServerCertIssuer, ServerCertSubject: t.ServerCertSubject})
		if err != nil {
			return opts, fmt.Errorf("zabbix.tls: %w", err)
		}
		opts.TLS = tc
	}
	return opts, nil
}

// destinationName names a spool directory after the servers it holds values for.
func destinationName(servers []string) string {
	h := sha256.Sum256([]byte(strings.Join(servers, ",")))
	return safeFileName(servers[0]) + "-" + hex.EncodeToString(h[:4])
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// spoolWait bounds how long a run waits for another process that holds the spool.
const spoolWait = 2 * time.Minute

// spoolingSender returns the sender with the spool opened (once per runtime). Another process
// holding the spool is waited for, within spoolWait.
func (rt *Runtime) spoolingSender(ctx context.Context) (Sender, error) {
	if rt.spoolDir == "" {
		return PlainSender{S: rt.client}, nil
	}
	if rt.spool == nil {
		if err := os.MkdirAll(rt.spoolDir, 0o700); err != nil {
			return nil, fmt.Errorf("spool %s: %w", rt.spoolDir, err)
		}
		deadline := time.Now().Add(spoolWait)
		for {
			sp, err := sender.OpenSpool(rt.spoolDir, sender.SpoolOptions{
				MaxBytes: rt.cfg.Zabbix.Spool.MaxBytes, MaxAge: rt.cfg.Zabbix.Spool.MaxAge, HoldRetry: rt.LLDRetry, Logger: rt.log})
			if err == nil {
				rt.spool = sp
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return nil, fmt.Errorf("spool %s: %w", rt.spoolDir, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return &sender.SpoolingSender{Sender: rt.client, Spool: rt.spool}, nil
}

// Outcome is what one run of a family for a site produced.
type Outcome struct {
	Site     string
	Family   measures.Family
	Burst    *measures.Burst
	Delivery Delivery
	// Diagnosis names, through the Zabbix API when it is configured, why Zabbix refused
	// values: unknown host, missing, disabled or non-trapper items, pending discovery, proxy.
	Diagnosis []string
	Err       error // the run could not deliver (values may be spooled)
	// Ledger says why values of the burst were not sent: the delivery ledger knows the period
	// was delivered before (empty when everything computed was sent).
	Ledger string
	// Unsent counts the values computed but not sent because the period was delivered before.
	Unsent int
	// Reports are the self-monitoring values sent right after the burst, describing it, and
	// ReportDelivery how they were delivered (apart from the burst's own Delivery).
	Reports        []measures.Value
	ReportDelivery Delivery
}

// ExitCode maps the outcome to the command's exit status.
func (o Outcome) ExitCode() int {
	switch {
	case o.Err != nil, o.Burst != nil && o.Burst.Unreachable != nil:
		return ExitFailure
	case o.Delivery.Failed > 0 || o.ReportDelivery.Failed > 0 || o.Burst.FailedKeys() > 0:
		return ExitSomeFail
	}
	return ExitOK
}

// Sites returns the configured site names in order.
func (rt *Runtime) Sites() []string {
	out := make([]string, len(rt.sites))
	for i, s := range rt.sites {
		out[i] = s.cfg.Name
	}
	return out
}

// RunFamily runs family f for one site at now and delivers the values (unless dryRun), then
// sends the self-monitoring values that describe the run. See Run.
func (rt *Runtime) RunFamily(ctx context.Context, siteName string, f measures.Family, now time.Time, dryRun bool) Outcome {
	return rt.Run(ctx, siteName, f, now, RunOptions{DryRun: dryRun})
}

// diagnose asks the Zabbix API, when configured, which of the burst's values Zabbix would
// refuse and why. The trapper itself only counts failures.
func (rt *Runtime) diagnose(ctx context.Context, host string, b *measures.Burst) []string {
	api, err := newAPI(rt.cfg)
	if err != nil || api == nil {
		return []string{"configure zabbix.api to have the refused values named, or run 'moodle-zabbix check'"}
	}
	defer api.Logout(context.WithoutCancel(ctx))
	var keys []string
	discovered := map[string]bool{}
	for _, v := range b.Values {
		if v.Discovery {
			continue
		}
		keys = append(keys, v.Key)
		discovered[v.Key] = v.Prototype
	}
	lines, err := provision.Diagnose(ctx, api, host, keys, discovered)
	if err != nil {
		return []string{"diagnosis through the Zabbix API failed: " + err.Error()}
	}
	if len(lines) == 0 {
		lines = []string{"host and items look right in the API: Zabbix's configuration cache has probably not caught up yet (CacheUpdateFrequency)"}
	}
	for _, l := range lines {
		rt.log.Debug("Zabbix refused values", "host", host, "diagnosis", l)
	}
	return lines
}

// stateFile keeps, per site, the last run record of each family (0600, in a 0700 directory).
type stateFile struct {
	path string
	mu   sync.Mutex
}

type stateData struct {
	Families map[string]measures.RunRecord `json:"families"`
}

func (sf *stateFile) load() stateData {
	var st stateData
	data, err := os.ReadFile(sf.path)
	if err == nil {
		_ = json.Unmarshal(data, &st)
	}
	if st.Families == nil {
		st.Families = map[string]measures.RunRecord{}
	}
	return st
}

func (sf *stateFile) previous(f measures.Family) *measures.RunRecord {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	st := sf.load()
	r, ok := st.Families[f.String()]
	if !ok {
		return nil
	}
	return &r
}

func (sf *stateFile) record(f measures.Family, rec *measures.RunRecord) error {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	st := sf.load()
	if rec.LastSuccess.IsZero() {
		rec.LastSuccess = st.Families[f.String()].LastSuccess
	}
	st.Families[f.String()] = *rec
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(sf.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("state %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), sf.path)
}

// fileSender writes values to a zabbix_sender input file instead of the network, for the PSK
// path: `zabbix_sender -c zabbix_agentd.conf -T -N -i FILE` then sends them (Go's TLS has no
// PSK). "-" writes to standard output for a pipe.
type fileSender struct {
	path string
	out  io.Writer // where "-" writes (standard output by default)
	mu   sync.Mutex
}

// Send appends items to the file and counts them as processed.
func (fs *fileSender) Send(_ context.Context, items []sender.Item) (sender.Result, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	w := fs.out
	if w == nil {
		w = os.Stdout
	}
	if fs.path != "-" {
		f, err := os.OpenFile(fs.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return sender.Result{}, fmt.Errorf("sender file: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := sender.WriteSenderInput(w, items); err != nil {
		return sender.Result{}, fmt.Errorf("sender file %s: %w", fs.path, err)
	}
	return sender.Result{Processed: len(items), Total: len(items)}, nil
}

// errNoSite is returned when --site names no configured site.
var errNoSite = errors.New("no such site")
