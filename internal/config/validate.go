package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/scheduler"
)

// validator checks a decoded Config against the file's node index, applies
// defaults and resolves secrets, collecting every problem.
type validator struct {
	file   string
	dir    string
	ix     *index
	getenv func(string) (string, bool)
	errs   []*Error
	// undecoded holds the paths the YAML decoder could not fill; checks of
	// their zero values would repeat the decoder's complaint.
	undecoded map[string]bool
}

// addf records a problem with path, located at path's line (or its closest
// written ancestor's).
func (v *validator) addf(path, format string, args ...any) {
	if v.undecoded[path] {
		return
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: v.ix.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

var (
	// Zabbix 6.0 host names: alphanumerics, spaces, dots, dashes and
	// underscores, at most 128 characters.
	hostNameRE = regexp.MustCompile(`^[0-9A-Za-z_. \-]{1,128}$`)
	prefixRE   = regexp.MustCompile(`^[a-z0-9_]*$`)
	courseIDRE = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)
	// A user macro: {$NAME} or {$NAME:context}.
	macroRE = regexp.MustCompile(`^\{\$[A-Z0-9_.]+(:.*)?\}$`)
	// An item key: a name of letters, digits, _ . - with optional [params].
	itemKeyRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+(\[.*\])?$`)
)

func (v *validator) validate(c *Config) {
	v.zabbix(&c.Zabbix)
	v.schedules(c.Schedules)
	v.customMeasures("custom_measures", c.CustomMeasures)

	hosts := map[string]string{} // Zabbix host name -> path of first use
	for i := range c.Fleets {
		v.fleet(fmt.Sprintf("fleets[%d]", i), &c.Fleets[i], hosts)
	}
	if len(c.Sites) == 0 {
		v.addf("sites", "at least one site is required")
	}
	names := map[string]string{}
	for i := range c.Sites {
		v.site(fmt.Sprintf("sites[%d]", i), &c.Sites[i], names, hosts)
		v.siteScale(fmt.Sprintf("sites[%d]", i), &c.Sites[i])
	}
	v.scale(c)
}

func (v *validator) zabbix(z *Zabbix) {
	if len(z.Servers) == 0 {
		v.addf("zabbix.servers", "at least one server (host:port) is required")
	}
	seen := map[string]bool{}
	for i, s := range z.Servers {
		p := fmt.Sprintf("zabbix.servers[%d]", i)
		addr, err := normalizeServer(s)
		if err != nil {
			v.addf(p, "%q: %v", s, err)
			continue
		}
		if seen[addr] {
			v.addf(p, "%q is listed twice", s)
		}
		seen[addr] = true
		z.Servers[i] = addr
	}
	v.duration("zabbix.timeout", &z.Timeout, DefaultTimeout)
	switch {
	case z.BatchSize < 0:
		v.addf("zabbix.batch_size", "%d: must be positive", z.BatchSize)
	case z.BatchSize == 0:
		z.BatchSize = DefaultBatchSize
	}

	switch {
	case z.Output == "":
	case strings.HasPrefix(z.Output, SenderFilePrefix):
		path := strings.TrimPrefix(z.Output, SenderFilePrefix)
		switch path {
		case "":
			v.addf("zabbix.output", "%q: sender-file: needs a file path (or - for standard output)", z.Output)
		case "-": // standard output, for a pipe into zabbix_sender -i -
		default:
			z.Output = SenderFilePrefix + resolvePath(v.dir, path)
		}
		if z.TLS != nil {
			v.addf("zabbix.tls", "not used with output %q: zabbix_sender takes its own TLS options", z.Output)
		}
	default:
		v.addf("zabbix.output", "%q: must be empty (built-in sender) or sender-file:/path", z.Output)
	}

	if t := z.TLS; t != nil {
		for _, f := range []struct {
			key  string
			path *string
		}{{"ca_file", &t.CAFile}, {"cert_file", &t.CertFile}, {"key_file", &t.KeyFile}} {
			p := "zabbix.tls." + f.key
			if *f.path == "" {
				v.addf(p, "required in certificate mode")
				continue
			}
			*f.path = resolvePath(v.dir, *f.path)
			if fi, err := os.Stat(*f.path); err != nil {
				v.addf(p, "%v", err)
			} else if !fi.Mode().IsRegular() {
				v.addf(p, "%s: not a regular file", *f.path)
			}
		}
	}

	s := &z.Spool
	if s.Dir == "" {
		s.Dir = defaultSpoolDir(os.Geteuid(), v.getenv)
	} else {
		s.Dir = resolvePath(v.dir, s.Dir)
	}
	switch {
	case s.MaxBytes < 0:
		v.addf("zabbix.spool.max_bytes", "%d: must be positive", s.MaxBytes)
	case s.MaxBytes == 0:
		s.MaxBytes = DefaultSpoolMaxBytes
	}
	v.duration("zabbix.spool.max_age", &s.MaxAge, DefaultSpoolMaxAge)

	if a := z.API; a != nil {
		v.api(a)
	}
}

// normalizeServer checks host[:port] and adds the default trapper port.
func normalizeServer(s string) (string, error) {
	if strings.TrimSpace(s) != s || s == "" {
		return "", fmt.Errorf("want host or host:port without spaces")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") && !strings.HasPrefix(s, "[") && strings.Count(s, ":") == 1 {
			return "", err
		}
		if strings.Contains(s, ":") && !strings.HasPrefix(s, "[") {
			return "", fmt.Errorf("write an IPv6 address in brackets: [%s]:%s", s, DefaultServerPort)
		}
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), DefaultServerPort
	}
	if host == "" || strings.ContainsAny(host, " /[]") {
		return "", fmt.Errorf("invalid host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid port %q", port)
	}
	return net.JoinHostPort(host, port), nil
}

func (v *validator) api(a *API) {
	u, err := url.Parse(a.URL)
	switch {
	case a.URL == "":
		v.addf("zabbix.api.url", "required when api is set")
	case err != nil:
		v.addf("zabbix.api.url", "%q: %v", a.URL, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		v.addf("zabbix.api.url", "%q: want an http:// or https:// URL", a.URL)
	}
	token := v.ix.has("zabbix.api.token") || a.Token.IsSet()
	password := v.ix.has("zabbix.api.password") || a.Password.IsSet()
	v.secret("zabbix.api.token", &a.Token)
	v.secret("zabbix.api.password", &a.Password)
	switch {
	case token && a.Username != "":
		v.addf("zabbix.api.username", "give either token or username and password, not both")
	case a.Username != "" && !password:
		v.addf("zabbix.api.password", "required with username")
	case a.Username == "" && password:
		v.addf("zabbix.api.username", "required with password")
	case a.Username == "" && !token:
		v.addf("zabbix.api", "give token, or username and password")
	}
}

// secret resolves an env: or file: secret, reporting where it failed but
// never the value.
func (v *validator) secret(path string, s *Secret) {
	if !v.ix.has(path) && !s.IsSet() {
		return
	}
	if !s.IsSet() {
		v.addf(path, "empty")
		return
	}
	if err := s.resolve(v.getenv, v.dir); err != nil {
		v.addf(path, "%v", err)
	}
}

// duration checks a duration is not negative and defaults a zero one.
func (v *validator) duration(path string, d *time.Duration, def time.Duration) {
	switch {
	case *d < 0:
		v.addf(path, "%v: must be positive", *d)
	case *d == 0:
		*d = def
	}
}

func (v *validator) schedules(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, fam := range keys {
		p := childPath("schedules", fam)
		if !scheduler.IsFamily(fam) {
			v.addf(p, "unknown family %q; want one of %s", fam, strings.Join(scheduler.Families, ", "))
			continue
		}
		if err := scheduler.ValidateSpec(m[fam]); err != nil {
			v.addf(p, "%v", err)
		}
	}
}

func (v *validator) fleet(p string, f *Fleet, hosts map[string]string) {
	if f.Name == "" {
		v.addf(p+".name", "required")
	}
	v.host(p+".host", f.Host, hosts)
	if strings.TrimSpace(f.Group) == "" {
		v.addf(p+".group", "required: the host group whose members the fleet aggregates")
	}
	if len(f.HostGroups) == 0 {
		f.HostGroups = []string{DefaultFleetHostGroup}
	}
	for i, g := range f.HostGroups {
		switch {
		case strings.TrimSpace(g) == "":
			v.addf(fmt.Sprintf("%s.host_groups[%d]", p, i), "empty host group name")
		case g == f.Group:
			v.addf(fmt.Sprintf("%s.host_groups[%d]", p, i), "%q is the group the fleet aggregates; put the fleet host in another group", g)
		}
	}
}

// host checks a Zabbix host name and that it is used once.
func (v *validator) host(p, h string, hosts map[string]string) {
	switch {
	case h == "":
		v.addf(p, "required: the Zabbix host name")
		return
	case !hostNameRE.MatchString(h) || strings.TrimSpace(h) != h:
		v.addf(p, "%q: a Zabbix host name has 1 to 128 letters, digits, spaces, dots, dashes or underscores, and no leading or trailing space", h)
		return
	}
	if first, dup := hosts[h]; dup {
		v.addf(p, "duplicate host %q, already used by %s at line %d", h, first, v.ix.line(first))
		return
	}
	hosts[h] = p
}

func (v *validator) site(p string, s *Site, names, hosts map[string]string) {
	switch {
	case strings.TrimSpace(s.Name) == "":
		v.addf(p+".name", "required")
	case names[s.Name] != "":
		first := names[s.Name]
		v.addf(p+".name", "duplicate site name %q, already used by %s at line %d", s.Name, first, v.ix.line(first+".name"))
	default:
		names[s.Name] = p
	}
	v.host(p+".host", s.Host, hosts)

	if !slices.Contains(Drivers, s.Driver) {
		if s.Driver == "" {
			v.addf(p+".driver", "required: one of %s", strings.Join(Drivers, ", "))
		} else {
			v.addf(p+".driver", "%q: want one of %s", s.Driver, strings.Join(Drivers, ", "))
		}
	}
	if !v.ix.has(p+".dsn") && !s.DSN.IsSet() {
		v.addf(p+".dsn", "required: the database connection string (env:NAME, file:/path or the value)")
	}
	v.secret(p+".dsn", &s.DSN)

	if !v.ix.has(p + ".prefix") {
		s.Prefix = DefaultPrefix
	} else if !prefixRE.MatchString(s.Prefix) {
		v.addf(p+".prefix", "%q: a table prefix has only a-z, 0-9 and _", s.Prefix)
	}

	s.loc = time.UTC
	if s.Timezone == "" {
		s.Timezone = "UTC"
	} else if loc, err := time.LoadLocation(s.Timezone); err != nil || strings.TrimSpace(s.Timezone) != s.Timezone {
		v.addf(p+".timezone", "%q: not a known IANA time zone such as Europe/Paris", s.Timezone)
	} else {
		s.loc = loc
	}

	if len(s.Groups) == 0 {
		s.Groups = []string{DefaultGroup}
	}
	v.nonEmpty(p+".groups", s.Groups)
	v.nonEmpty(p+".templates", s.Templates)
	macros := make([]string, 0, len(s.Macros))
	for m := range s.Macros {
		macros = append(macros, m)
	}
	sort.Strings(macros)
	for _, m := range macros {
		if !macroRE.MatchString(m) {
			v.addf(childPath(p+".macros", m), "%q: a user macro is written {$NAME} with A-Z, 0-9, _ and .", m)
		}
	}

	v.duration(p+".measure_timeout", &s.MeasureTimeout, DefaultMeasureTimeout)
	switch {
	case s.StatementTimeout < 0:
		v.addf(p+".statement_timeout", "%v: must be positive", s.StatementTimeout)
	case s.StatementTimeout == 0:
		s.StatementTimeout = s.MeasureTimeout - min(statementMargin, s.MeasureTimeout/6)
	case s.MeasureTimeout > 0 && s.StatementTimeout > s.MeasureTimeout:
		v.addf(p+".statement_timeout", "%v is longer than measure_timeout %v", s.StatementTimeout, s.MeasureTimeout)
	}

	if s.Dirroot != "" {
		s.Dirroot = resolvePath(v.dir, s.Dirroot)
	}
	if s.Dataroot != "" {
		s.Dataroot = resolvePath(v.dir, s.Dataroot)
	}

	v.roleSet(p+".roles.students", &s.Roles.Students, []string{"student"})
	v.roleSet(p+".roles.teachers", &s.Roles.Teachers, []string{"teacher", "editingteacher"})
	v.roleSet(p+".roles.staff", &s.Roles.Staff, []string{"manager"})

	seen := map[string]bool{}
	for i, c := range s.CoursesOfInterest {
		cp := fmt.Sprintf("%s.courses_of_interest[%d]", p, i)
		idn, isIDNumber := strings.CutPrefix(c, "idnumber:")
		switch {
		case isIDNumber && strings.TrimSpace(idn) == "":
			v.addf(cp, "%q: idnumber: needs the course idnumber", c)
		case !isIDNumber && !courseIDRE.MatchString(c):
			v.addf(cp, "%q: want a course id (a positive integer) or idnumber:X", c)
		case seen[c]:
			v.addf(cp, "%q is listed twice", c)
		}
		seen[c] = true
	}
	v.customMeasures(p+".custom_measures", s.CustomMeasures)
	for i, k := range s.DisabledMeasures {
		if !itemKeyRE.MatchString(k) {
			v.addf(fmt.Sprintf("%s.disabled_measures[%d]", p, i), "%q is not a measure key", k)
		}
	}
	v.discovery(p+".discovery", &s.Discovery)
}

// nonEmpty reports blank entries of a list of names.
func (v *validator) nonEmpty(p string, list []string) {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.addf(fmt.Sprintf("%s[%d]", p, i), "empty name")
		}
	}
}

// roleSet checks archetypes and applies the default when the set is empty.
func (v *validator) roleSet(p string, r *RoleSet, def []string) {
	if len(r.Archetypes) == 0 && len(r.Shortnames) == 0 {
		r.Archetypes = slices.Clone(def)
		return
	}
	for i, a := range r.Archetypes {
		if !slices.Contains(Archetypes, a) {
			v.addf(fmt.Sprintf("%s.archetypes[%d]", p, i), "%q: want a Moodle archetype (%s)", a, strings.Join(Archetypes, ", "))
		}
	}
	v.nonEmpty(p+".shortnames", r.Shortnames)
}
