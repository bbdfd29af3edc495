// Package config decodes and validates the moodle-zabbix YAML configuration
// file. Decoding is strict: an unknown key is an error. Every problem found
// is reported at once, each prefixed with file:line: and the key at fault,
// and secrets (DSNs, API credentials) never appear in an error or a log.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/scheduler"
	"gopkg.in/yaml.v3"
)

// Defaults applied to keys left out of the file.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultBatchSize      = 250
	DefaultSpoolMaxBytes  = 64 << 20
	DefaultSpoolMaxAge    = 7 * 24 * time.Hour
	DefaultMeasureTimeout = 30 * time.Second
	DefaultPrefix         = "mdl_"
	DefaultGroup          = "Moodle sites"
	// DefaultFleetHostGroup is the host group of a fleet host that names none.
	DefaultFleetHostGroup = "Moodle fleets"
	DefaultServerPort     = "10051"
	// SenderFilePrefix starts an output value that writes a zabbix_sender
	// input file instead of talking to the trapper.
	SenderFilePrefix = "sender-file:"
	// RootSpoolDir is the default spool directory (the state directory of a system service).
	RootSpoolDir = "/var/lib/moodle-zabbix/spool"
)

// statementMargin is the most by which a statement timeout defaults to less
// than the measure timeout, leaving the runner time to report the failure.
const statementMargin = 5 * time.Second

// Drivers lists the accepted values of a site's driver.
var Drivers = []string{"mysql", "postgres", "sqlite"}

// Archetypes lists Moodle's role archetypes, the accepted values of a role
// set's archetypes.
var Archetypes = []string{"manager", "coursecreator", "editingteacher", "teacher", "student", "guest", "user", "frontpage"}

// Config is the whole configuration file.
type Config struct {
	// Zabbix says where and how values are sent.
	Zabbix Zabbix `yaml:"zabbix"`
	// Schedules overrides the cron specification of some families, keyed by
	// family name (instant, hourly, daily, weekly, monthly).
	Schedules map[string]string `yaml:"schedules"`
	// Fleets are Zabbix hosts that aggregate a host group of sites.
	Fleets []Fleet `yaml:"fleets"`
	// Sites are the Moodle sites measured; at least one.
	Sites []Site `yaml:"sites"`
	// CustomMeasures are YAML files of measures, or directories of them, that every site
	// runs (see docs/extending.md). Relative paths are relative to the configuration file.
	CustomMeasures []string `yaml:"custom_measures"`
	// Scale bounds the concurrency and spreads the bursts of a large fleet.
	Scale Scale `yaml:"scale"`

	file string
	ix   *index // where each key is in the file, for messages after Parse
}

// Zabbix is the zabbix section: the trapper, the spool and the API.
type Zabbix struct {
	// Servers are trapper addresses host[:port] (port 10051 by default),
	// tried in order until one accepts a batch. Load adds the default port.
	Servers []string `yaml:"servers"`
	// Timeout bounds one exchange with a server; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// BatchSize is the most values sent in one request; default 250.
	BatchSize int `yaml:"batch_size"`
	// Compress turns on Zabbix protocol compression.
	Compress bool `yaml:"compress"`
	// TLS turns on certificate-based TLS when present.
	TLS *TLS `yaml:"tls"`
	// Output is "" for the built-in sender or "sender-file:/path" to write a
	// zabbix_sender input file (for PSK set-ups, sent by zabbix_sender).
	Output string `yaml:"output"`
	// Spool keeps values that could not be delivered, for a later replay.
	Spool Spool `yaml:"spool"`
	// API gives access to the Zabbix API for install, check and diagnosis.
	API *API `yaml:"api"`
	// Proxies sends each host's values to the Zabbix proxy that monitors it.
	Proxies *Proxies `yaml:"proxies"`
}

// TLS is the certificate mode of the sender, as zabbix_sender's --tls-*
// options. Relative paths are relative to the configuration file.
type TLS struct {
	// CAFile holds the certificate authorities that sign the server's certificate.
	CAFile string `yaml:"ca_file"`
	// CertFile is the client certificate.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the client certificate's private key.
	KeyFile string `yaml:"key_file"`
	// ServerName overrides the name checked in the server certificate.
	ServerName string `yaml:"server_name"`
	// ServerCertIssuer, when set, must equal the server certificate's issuer.
	ServerCertIssuer string `yaml:"server_cert_issuer"`
	// ServerCertSubject, when set, must equal the server certificate's subject.
	ServerCertSubject string `yaml:"server_cert_subject"`
}

// Spool bounds the on-disk queue of undelivered values.
type Spool struct {
	// Dir is the spool directory, which also holds the run state and the delivery
	// ledger; by default $STATE_DIRECTORY/spool under systemd, else
	// /var/lib/moodle-zabbix/spool.
	Dir string `yaml:"dir"`
	// MaxBytes caps the spool size, oldest values dropped first; default 64 MiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxAge drops spooled values older than this; default 168h.
	MaxAge time.Duration `yaml:"max_age"`
}

// API is how to reach the Zabbix API: a token, or a user name and password.
type API struct {
	// URL is the api_jsonrpc.php address.
	URL string `yaml:"url"`
	// Token is an API token (Zabbix 5.4 and later).
	Token Secret `yaml:"token"`
	// Username logs in when no token is given.
	Username string `yaml:"username"`
	// Password goes with Username.
	Password Secret `yaml:"password"`
	// InsecureSkipVerify turns off the check of the server's certificate.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Fleet is a Zabbix host that carries the fleet template, whose items
// aggregate the members of a host group.
type Fleet struct {
	// Name is the visible name of the fleet host.
	Name string `yaml:"name"`
	// Host is the Zabbix host name of the fleet host.
	Host string `yaml:"host"`
	// Group is the host group whose members are aggregated.
	Group string `yaml:"group"`
	// HostGroups are the host groups of the fleet host itself; default
	// [Moodle fleets]. They may not include Group: the fleet is not one of
	// the sites it aggregates.
	HostGroups []string `yaml:"host_groups"`
}

// Site is one Moodle site and the Zabbix host that receives its values.
type Site struct {
	// Name identifies the site on the command line; unique.
	Name string `yaml:"name"`
	// Host is the Zabbix host name; unique across sites and fleets.
	Host string `yaml:"host"`
	// Driver is the database kind: mysql (also MariaDB), postgres or sqlite.
	Driver string `yaml:"driver"`
	// DSN is the database connection string in the driver's format.
	DSN Secret `yaml:"dsn"`
	// Prefix is the Moodle table prefix; default mdl_.
	Prefix string `yaml:"prefix"`
	// Timezone is the IANA zone of the site's calendar periods; default UTC.
	Timezone string `yaml:"timezone"`
	// Groups are the host groups given to the host on install; default
	// [Moodle sites].
	Groups []string `yaml:"groups"`
	// Templates are extra templates linked on install (contrib packs).
	Templates []string `yaml:"templates"`
	// Macros are host user macros set on install, such as {$MOODLE.ADHOC.QUEUE.MAX}.
	Macros map[string]string `yaml:"macros"`
	// MeasureTimeout bounds one measure (queries and all); default 30s.
	MeasureTimeout time.Duration `yaml:"measure_timeout"`
	// StatementTimeout bounds one SQL statement; default the measure timeout
	// less a margin (25s for 30s).
	StatementTimeout time.Duration `yaml:"statement_timeout"`
	// Dataroot is the moodledata directory for filesystem measures; optional.
	Dataroot string `yaml:"dataroot"`
	// Dirroot is Moodle's code directory, read to tell whether an upgrade is pending;
	// optional.
	Dirroot string `yaml:"dirroot"`
	// Roles says which roles count as students, teachers and staff.
	Roles Roles `yaml:"roles"`
	// CoursesOfInterest are courses measured one by one: a course id or
	// idnumber:X.
	CoursesOfInterest []string `yaml:"courses_of_interest"`
	// DisabledMeasures are measure keys not computed for this site.
	DisabledMeasures []string `yaml:"disabled_measures"`
	// Discovery limits what the discovery rules report: the privacy threshold, the caps and
	// the category depth.
	Discovery Discovery `yaml:"discovery"`
	// CustomMeasures are YAML files of measures, or directories of them, that only this
	// site runs, on top of the top-level custom_measures.
	CustomMeasures []string `yaml:"custom_measures"`
	// ReplicaDSN, when set, is a read replica's connection string: the daily, weekly and
	// monthly families read from it, the instant and hourly families from DSN.
	ReplicaDSN Secret `yaml:"replica_dsn"`
	// Shard is an explicit shard label: a daemon started with --shard LABEL runs the sites
	// labelled LABEL (see Config.SelectShard).
	Shard string `yaml:"shard"`

	loc *time.Location
}

// Roles maps the three audiences of the measures to Moodle roles.
type Roles struct {
	// Students defaults to the student archetype.
	Students RoleSet `yaml:"students"`
	// Teachers defaults to the teacher and editingteacher archetypes.
	Teachers RoleSet `yaml:"teachers"`
	// Staff defaults to the manager archetype.
	Staff RoleSet `yaml:"staff"`
}

// RoleSet selects roles by archetype and by short name; a role matching
// either is in the set.
type RoleSet struct {
	// Archetypes are Moodle role archetypes (see Archetypes).
	Archetypes []string `yaml:"archetypes"`
	// Shortnames are role short names, for custom roles.
	Shortnames []string `yaml:"shortnames"`
}

// Location returns the site's time zone, UTC when none was loaded.
func (s *Site) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// MeasureDisabled reports whether key is listed in DisabledMeasures.
func (s *Site) MeasureDisabled(key string) bool {
	for _, k := range s.DisabledMeasures {
		if k == key {
			return true
		}
	}
	return false
}

// CourseIDs splits CoursesOfInterest into course ids and idnumbers.
func (s *Site) CourseIDs() (ids []int64, idnumbers []string) {
	for _, c := range s.CoursesOfInterest {
		if n, ok := strings.CutPrefix(c, "idnumber:"); ok {
			idnumbers = append(idnumbers, n)
		} else if id, err := strconv.ParseInt(c, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, idnumbers
}

// SenderFile returns the path of a sender-file output, "" for the built-in
// sender.
func (z *Zabbix) SenderFile() string {
	p, _ := strings.CutPrefix(z.Output, SenderFilePrefix)
	return p
}

// File returns the name the configuration was loaded from.
func (c *Config) File() string { return c.file }

// Site returns the site named name.
func (c *Config) Site(name string) (*Site, bool) {
	for i := range c.Sites {
		if c.Sites[i].Name == name {
			return &c.Sites[i], true
		}
	}
	return nil, false
}

// Schedule returns the cron specification of family: the file's override or
// scheduler.DefaultSpecs.
func (c *Config) Schedule(family string) string {
	if spec, ok := c.Schedules[family]; ok {
		return spec
	}
	return scheduler.DefaultSpecs[family]
}

// Load reads and validates the configuration file at path, reading env:
// secrets from the process environment.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse decodes and validates data, naming it name in messages; relative
// paths in it are relative to name's directory. getenv resolves env:
// secrets (os.LookupEnv when nil) and the spool directory default. All
// problems are returned together (errors.Join of *Error values).
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	var root yaml.Node
	if err := safeYAML(func() error { return yaml.Unmarshal(data, &root) }); err != nil {
		return nil, yamlSyntaxError(name, err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Msg: "empty configuration"}
	}
	if top := root.Content[0]; top.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: top.Line, Msg: "the configuration must be a mapping of keys (zabbix, sites ...)"}
	}
	v := &validator{file: name, ix: newIndex(&root), getenv: getenv, dir: filepath.Dir(name)}

	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := safeYAML(func() error { return dec.Decode(&cfg) })
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		for _, msg := range te.Errors {
			v.addTypeError(msg)
			if strings.Contains(msg, "already defined at line") {
				// The decoder drops the whole mapping holding a
				// duplicate key: checking the rest would only add noise.
				return nil, v.err()
			}
		}
	case err != nil:
		return nil, yamlSyntaxError(name, err)
	}
	var next yaml.Node
	if err := safeYAML(func() error { return dec.Decode(&next) }); err != io.EOF {
		line := 0
		if err == nil {
			line = next.Line
		}
		v.errs = append(v.errs, &Error{File: name, Line: line, Msg: "more than one YAML document; the configuration is one document"})
	}
	cfg.file = name
	cfg.ix = v.ix
	v.validate(&cfg)
	if err := v.err(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// safeYAML runs a yaml.v3 call, turning a panic inside the library into an
// error so that no input can crash the program.
func safeYAML(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("yaml: invalid document: %v", v)
		}
	}()
	return f()
}

// defaultSpoolDir picks the spool directory when the file gives none: under the state
// directory systemd gives the service ($STATE_DIRECTORY, from StateDirectory=), else under
// /var/lib/moodle-zabbix whoever runs it. It never depends on $HOME: a service user often has
// none. The user id is kept for callers that may one day differ by user.
func defaultSpoolDir(_ int, getenv func(string) (string, bool)) string {
	if d, ok := getenv("STATE_DIRECTORY"); ok {
		// systemd may list several directories, separated by colons: the first is ours.
		if first, _, _ := strings.Cut(d, ":"); filepath.IsAbs(first) {
			return filepath.Join(first, "spool")
		}
	}
	return RootSpoolDir
}
