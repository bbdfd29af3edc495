package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zoneinfo
)

// env is a fake environment for Parse.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

var testEnv = env(map[string]string{
	"MOODLE_DSN":       "moodle:pw@tcp(db)/moodle",
	"ZABBIX_API_TOKEN": "tok",
	"EMPTY":            "",
})

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("config.yaml", []byte(src), testEnv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// errLines returns the lines of a joined error.
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

const minimal = `zabbix:
  servers: [zbx.example.org]
sites:
  - name: main
    host: moodle-main
    driver: mysql
    dsn: env:MOODLE_DSN
`

func TestParseDefaults(t *testing.T) {
	c := mustParse(t, minimal)
	z := c.Zabbix
	if want := []string{"zbx.example.org:10051"}; !reflect.DeepEqual(z.Servers, want) {
		t.Errorf("servers = %q, want %q", z.Servers, want)
	}
	if z.Timeout != DefaultTimeout || z.BatchSize != DefaultBatchSize || z.Compress || z.TLS != nil || z.API != nil || z.Output != "" {
		t.Errorf("zabbix defaults = %+v", z)
	}
	if z.Spool.Dir == "" || z.Spool.MaxBytes != 64<<20 || z.Spool.MaxAge != 168*time.Hour {
		t.Errorf("spool defaults = %+v", z.Spool)
	}
	s, ok := c.Site("main")
	if !ok {
		t.Fatal("site main not found")
	}
	if s.Prefix != "mdl_" || s.Timezone != "UTC" || s.Location() != time.UTC {
		t.Errorf("prefix %q timezone %q location %v", s.Prefix, s.Timezone, s.Location())
	}
	if s.MeasureTimeout != 30*time.Second || s.StatementTimeout != 25*time.Second {
		t.Errorf("timeouts = %v / %v", s.MeasureTimeout, s.StatementTimeout)
	}
	if !reflect.DeepEqual(s.Groups, []string{"Moodle sites"}) {
		t.Errorf("groups = %q", s.Groups)
	}
	wantRoles := Roles{
		Students: RoleSet{Archetypes: []string{"student"}},
		Teachers: RoleSet{Archetypes: []string{"teacher", "editingteacher"}},
		Staff:    RoleSet{Archetypes: []string{"manager"}},
	}
	if !reflect.DeepEqual(s.Roles, wantRoles) {
		t.Errorf("roles = %+v", s.Roles)
	}
	if s.DSN.Reveal() != "moodle:pw@tcp(db)/moodle" || s.DSN.Ref() != "env:MOODLE_DSN" {
		t.Errorf("dsn not resolved from the environment: ref %q", s.DSN.Ref())
	}
	for _, fam := range []string{"instant", "hourly", "daily", "weekly", "monthly"} {
		if c.Schedule(fam) == "" {
			t.Errorf("no schedule for %s", fam)
		}
	}
	if c.File() != "config.yaml" {
		t.Errorf("File() = %q", c.File())
	}
	if _, ok := c.Site("other"); ok {
		t.Error(`Site("other") found`)
	}
}

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("config.example.yaml", data, testEnv)
	if err != nil {
		t.Fatalf("the shipped example does not load:\n%v", err)
	}
	s := &c.Sites[0]
	if s.Location().String() != "Europe/Paris" {
		t.Errorf("location = %v", s.Location())
	}
	if got := c.Schedule("hourly"); got != "7 * * * *" {
		t.Errorf("hourly schedule = %q", got)
	}
	if got := c.Schedule("daily"); got != "5 0 * * *" {
		t.Errorf("daily schedule = %q", got)
	}
	if c.Zabbix.API == nil || c.Zabbix.API.Token.Reveal() != "tok" {
		t.Error("API token not resolved")
	}
	if s.Macros["{$MOODLE.ADHOC.QUEUE.MAX}"] != "500" {
		t.Errorf("macros = %v", s.Macros)
	}
	ids, idnumbers := s.CourseIDs()
	if !reflect.DeepEqual(ids, []int64{12}) || !reflect.DeepEqual(idnumbers, []string{"PHYS101"}) {
		t.Errorf("CourseIDs = %v, %q", ids, idnumbers)
	}
	if len(c.Fleets) != 1 || c.Fleets[0].Group != "Moodle sites" {
		t.Errorf("fleets = %+v", c.Fleets)
	}
}

func TestStatementTimeoutDefault(t *testing.T) {
	tests := []struct{ measure, want time.Duration }{
		{30 * time.Second, 25 * time.Second},
		{6 * time.Second, 5 * time.Second},
		{2 * time.Minute, 115 * time.Second},
	}
	for _, tc := range tests {
		c := mustParse(t, minimal+"    measure_timeout: "+tc.measure.String()+"\n")
		if got := c.Sites[0].StatementTimeout; got != tc.want {
			t.Errorf("measure_timeout %v: statement_timeout = %v, want %v", tc.measure, got, tc.want)
		}
	}
}

func TestParseValidVariants(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, c *Config)
	}{
		{"empty prefix kept", minimal + "    prefix: \"\"\n", func(t *testing.T, c *Config) {
			if c.Sites[0].Prefix != "" {
				t.Errorf("prefix = %q", c.Sites[0].Prefix)
			}
		}},
		{"ipv6 server", strings.Replace(minimal, "[zbx.example.org]", `["[::1]:10052", "[::1]"]`, 1), func(t *testing.T, c *Config) {
			if want := []string{"[::1]:10052", "[::1]:10051"}; !reflect.DeepEqual(c.Zabbix.Servers, want) {
				t.Errorf("servers = %q", c.Zabbix.Servers)
			}
		}},
		{"sender file relative to the config", "zabbix:\n  servers: [zbx]\n  output: sender-file:out/values.txt\n" + minimal[strings.Index(minimal, "sites:"):], func(t *testing.T, c *Config) {
			if got := c.Zabbix.SenderFile(); got != filepath.Join("etc", "out", "values.txt") {
				t.Errorf("SenderFile = %q", got)
			}
		}},
		{"custom roles", minimal + "    roles:\n      staff: {shortnames: [helpdesk]}\n", func(t *testing.T, c *Config) {
			r := c.Sites[0].Roles
			if len(r.Staff.Archetypes) != 0 || r.Staff.Shortnames[0] != "helpdesk" || r.Students.Archetypes[0] != "student" {
				t.Errorf("roles = %+v", r)
			}
		}},
		{"disabled measures", minimal + "    disabled_measures: [moodle.users.connected, \"moodle.cat.courses[{#CATID}]\"]\n", func(t *testing.T, c *Config) {
			s := c.Sites[0]
			if !s.MeasureDisabled("moodle.users.connected") || s.MeasureDisabled("moodle.users.active") {
				t.Errorf("MeasureDisabled wrong for %q", s.DisabledMeasures)
			}
		}},
		{"api with user and password", "zabbix:\n  servers: [zbx]\n  api:\n    url: http://z/api_jsonrpc.php\n    username: Admin\n    password: zabbix\n" + minimal[strings.Index(minimal, "sites:"):], func(t *testing.T, c *Config) {
			if c.Zabbix.API.Password.Reveal() != "zabbix" || c.Zabbix.API.Password.Ref() != "literal" {
				t.Error("literal password not kept")
			}
		}},
		{"merge keys", `zabbix: {servers: [zbx]}
sites:
  - &base
    name: a
    host: moodle-a
    driver: postgres
    dsn: env:MOODLE_DSN
  - <<: *base
    name: b
    host: moodle-b
`, func(t *testing.T, c *Config) {
			if len(c.Sites) != 2 || c.Sites[1].Driver != "postgres" || c.Sites[1].DSN.Reveal() == "" {
				t.Errorf("sites = %+v", c.Sites)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(filepath.Join("etc", "config.yaml"), []byte(tc.src), testEnv)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // every line of the error, in order
	}{
		{"unknown key in a site", `zabbix:
  servers: [zbx]
sites:
  - name: main
    host: moodle-main
    driver: mysql
    dsn: env:MOODLE_DSN
    colour: red
`, []string{"config.yaml:8: field colour not found in type config.Site"}},
		{"unknown top-level key and nothing else", `zabix: {}
`, []string{
			"config.yaml:1: field zabix not found in type config.Config",
			"config.yaml:1: zabbix.servers: at least one server (host:port) is required",
			"config.yaml:1: sites: at least one site is required",
		}},
		{"empty lists", `zabbix:
  servers: []
sites: []
`, []string{
			"config.yaml:2: zabbix.servers: at least one server (host:port) is required",
			"config.yaml:3: sites: at least one site is required",
		}},
		{"zabbix section", `zabbix:
  servers:
    - "zbx:0"
    - "fe80::1"
    - zbx
    - zbx:10051
  timeout: 10 seconds
  batch_size: many
  output: stdout
  spool:
    max_bytes: -5
    max_age: -1h
sites:
  - {name: main, host: moodle-main, driver: mysql, dsn: x}
`, []string{
			`config.yaml:3: zabbix.servers[0]: "zbx:0": invalid port "0"`,
			`config.yaml:4: zabbix.servers[1]: "fe80::1": write an IPv6 address in brackets: [fe80::1]:10051`,
			`config.yaml:6: zabbix.servers[3]: "zbx:10051" is listed twice`,
			`config.yaml:7: zabbix.timeout: "10 seconds" is not a duration such as 30s, 5m or 1h30m`,
			`config.yaml:8: zabbix.batch_size: "many" is not an integer`,
			`config.yaml:9: zabbix.output: "stdout": must be empty (built-in sender) or sender-file:/path`,
			`config.yaml:11: zabbix.spool.max_bytes: -5: must be positive`,
			`config.yaml:12: zabbix.spool.max_age: -1h0m0s: must be positive`,
		}},
		{"tls", `zabbix:
  servers: [zbx]
  tls:
    ca_file: /nonexistent/ca.crt
    cert_file: /
  output: sender-file:/tmp/x
sites:
  - {name: main, host: moodle-main, driver: mysql, dsn: x}
`, []string{
			`config.yaml:3: zabbix.tls: not used with output "sender-file:/tmp/x": zabbix_sender takes its own TLS options`,
			`config.yaml:3: zabbix.tls.key_file: required in certificate mode`,
			`config.yaml:4: zabbix.tls.ca_file: stat /nonexistent/ca.crt: no such file or directory`,
			`config.yaml:5: zabbix.tls.cert_file: /: not a regular file`,
		}},
		{"api", `zabbix:
  servers: [zbx]
  api:
    url: "zabbix.example.org"
    token: env:ZABBIX_API_TOKEN
    username: admin
sites:
  - {name: main, host: moodle-main, driver: mysql, dsn: x}
`, []string{
			`config.yaml:4: zabbix.api.url: "zabbix.example.org": want an http:// or https:// URL`,
			`config.yaml:6: zabbix.api.username: give either token or username and password, not both`,
		}},
		{"api without credentials", `zabbix:
  servers: [zbx]
  api:
    url: https://z/api_jsonrpc.php
    password: env:NOT_SET
sites:
  - {name: main, host: moodle-main, driver: mysql, dsn: x}
`, []string{
			`config.yaml:3: zabbix.api.username: required with password`,
			`config.yaml:5: zabbix.api.password: environment variable NOT_SET is not set`,
		}},
		{"schedules", `zabbix: {servers: [zbx]}
schedules:
  hourly: "7 * * *"
  yearly: "@yearly"
  daily: "CRON_TZ=Europe/Paris 5 0 * * *"
sites:
  - {name: main, host: moodle-main, driver: mysql, dsn: x}
`, []string{
			`config.yaml:3: schedules.hourly: cron spec "7 * * *": expected exactly 5 fields, found 4: [7 * * *]`,
			`config.yaml:4: schedules.yearly: unknown family "yearly"; want one of instant, hourly, daily, weekly, monthly`,
		}},
		{"site fields", `zabbix: {servers: [zbx]}
sites:
  - name: main
    host: moodle/main
    driver: oracle
    dsn: env:EMPTY
    prefix: Mdl-
    timezone: Europe/Pariss
    macros:
      "{$OK}": 1
      "{$lower}": 2
    measure_timeout: 10s
    statement_timeout: 20s
    roles:
      teachers:
        archetypes: [teacher, professor]
    courses_of_interest: [12, "0", "idnumber:", x12, 12]
    disabled_measures: ["bad key"]
`, []string{
			`config.yaml:4: sites[0].host: "moodle/main": a Zabbix host name has 1 to 128 letters, digits, spaces, dots, dashes or underscores, and no leading or trailing space`,
			`config.yaml:5: sites[0].driver: "oracle": want one of mysql, postgres, sqlite`,
			`config.yaml:6: sites[0].dsn: environment variable EMPTY is empty`,
			`config.yaml:7: sites[0].prefix: "Mdl-": a table prefix has only a-z, 0-9 and _`,
			`config.yaml:8: sites[0].timezone: "Europe/Pariss": not a known IANA time zone such as Europe/Paris`,
			`config.yaml:11: sites[0].macros["{$lower}"]: "{$lower}": a user macro is written {$NAME} with A-Z, 0-9, _ and .`,
			`config.yaml:13: sites[0].statement_timeout: 20s is longer than measure_timeout 10s`,
			`config.yaml:16: sites[0].roles.teachers.archetypes[1]: "professor": want a Moodle archetype (manager, coursecreator, editingteacher, teacher, student, guest, user, frontpage)`,
			`config.yaml:17: sites[0].courses_of_interest[1]: "0": want a course id (a positive integer) or idnumber:X`,
			`config.yaml:17: sites[0].courses_of_interest[2]: "idnumber:": idnumber: needs the course idnumber`,
			`config.yaml:17: sites[0].courses_of_interest[3]: "x12": want a course id (a positive integer) or idnumber:X`,
			`config.yaml:17: sites[0].courses_of_interest[4]: "12" is listed twice`,
			`config.yaml:18: sites[0].disabled_measures[0]: "bad key" is not a measure key`,
		}},
		{"missing site fields", `zabbix: {servers: [zbx]}
sites:
  - timezone: UTC
`, []string{
			`config.yaml:3: sites[0].name: required`,
			`config.yaml:3: sites[0].host: required: the Zabbix host name`,
			`config.yaml:3: sites[0].driver: required: one of mysql, postgres, sqlite`,
			`config.yaml:3: sites[0].dsn: required: the database connection string (env:NAME, file:/path or the value)`,
		}},
		{"duplicates across sites and fleets", `zabbix: {servers: [zbx]}
fleets:
  - name: Fleet
    host: moodle-a
    group: Moodle sites
  - {name: Fleet 2, host: fleet2}
sites:
  - {name: a, host: moodle-a, driver: mysql, dsn: x}
  - {name: b, host: moodle-b, driver: postgres, dsn: x}
  - name: a
    host: moodle-b
    driver: sqlite
    dsn: x
`, []string{
			`config.yaml:6: fleets[1].group: required: the host group whose members the fleet aggregates`,
			`config.yaml:8: sites[0].host: duplicate host "moodle-a", already used by fleets[0].host at line 4`,
			`config.yaml:10: sites[2].name: duplicate site name "a", already used by sites[0] at line 8`,
			`config.yaml:11: sites[2].host: duplicate host "moodle-b", already used by sites[1].host at line 9`,
		}},
		{"wrong shapes", `zabbix:
  servers: zbx:10051
sites:
  - name: main
    host:
      first: a
    driver: mysql
    dsn: [a, b]
    roles: [student]
`, []string{
			"config.yaml:2: zabbix.servers: \"zbx:10051\" is not a list of strings",
			`config.yaml:5: sites[0].host: a mapping where a string is expected`,
			`config.yaml:8: sites[0].dsn: a list where a secret string (env:NAME, file:/path or the value itself) is expected`,
			`config.yaml:9: sites[0].roles: a list where a mapping with students, teachers, staff is expected`,
		}},
		{"merged keys keep their lines", `zabbix: {servers: [zbx]}
sites:
  - &base
    name: a
    host: moodle-a
    driver: mysql
    dsn: x
    prefix: BAD
  - <<: *base
    name: b
    host: moodle-b
`, []string{
			`config.yaml:8: sites[0].prefix: "BAD": a table prefix has only a-z, 0-9 and _`,
			`config.yaml:8: sites[1].prefix: "BAD": a table prefix has only a-z, 0-9 and _`,
		}},
		{"duplicate key", `zabbix: {servers: [zbx]}
sites:
  - {name: a, host: moodle-a, driver: mysql, dsn: x}
zabbix: {servers: [zbx]}
`, []string{`config.yaml:4: mapping key "zabbix" already defined at line 1`}},
		{"two documents", minimal + "---\nsites: []\n", []string{
			`config.yaml:8: more than one YAML document; the configuration is one document`,
		}},
		{"syntax error", "zabbix:\n  servers: [zbx\nsites: x\n", []string{
			`config.yaml:2: invalid YAML: did not find expected ',' or ']'`,
		}},
		{"empty file", "", []string{`config.yaml:1: empty configuration`}},
		{"comments only", "# nothing\n", []string{`config.yaml:1: empty configuration`}},
		{"not a mapping", "- a\n- b\n", []string{`config.yaml:1: the configuration must be a mapping of keys (zabbix, sites ...)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tc.src), testEnv)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			if c != nil {
				t.Error("Parse returned a config with an error")
			}
			got := errLines(err)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "config.yaml" {
				t.Errorf("error is not an *Error of config.yaml: %#v", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn.txt"), []byte("postgres://u:p@h/db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.crt", "client.crt", "client.key"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := `zabbix:
  servers: [zbx]
  tls: {ca_file: ca.crt, cert_file: client.crt, key_file: client.key, server_name: zbx}
  spool: {dir: spool}
sites:
  - {name: main, host: moodle-main, driver: postgres, dsn: "file:dsn.txt", dataroot: data}
`
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sites[0]
	if s.DSN.Reveal() != "postgres://u:p@h/db" || s.DSN.Ref() != "file:dsn.txt" {
		t.Errorf("file secret = ref %q", s.DSN.Ref())
	}
	if c.Zabbix.TLS.CAFile != filepath.Join(dir, "ca.crt") || c.Zabbix.Spool.Dir != filepath.Join(dir, "spool") || s.Dataroot != filepath.Join(dir, "data") {
		t.Errorf("relative paths not resolved against %s: %+v %+v %q", dir, c.Zabbix.TLS, c.Zabbix.Spool, s.Dataroot)
	}

	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load of a missing file = %v", err)
	}
	bad := strings.Replace(src, "file:dsn.txt", "file:nope.txt", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	want := path + ":6: sites[0].dsn: secret file: stat " + filepath.Join(dir, "nope.txt") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v\nwant %s", err, want)
	}
}

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	crlf := write("crlf", "s3cret\r\n")
	lines := write("lines", "line1\nline2\n\n")
	empty := write("empty", "\n")
	big := write("big", strings.Repeat("x", maxSecretFile+1))
	tests := []struct {
		ref, want, wantErr string
	}{
		{"literal-value", "literal-value", ""},
		{"env:MOODLE_DSN", "moodle:pw@tcp(db)/moodle", ""},
		{"file:" + crlf, "s3cret", ""},
		{"file:" + lines, "line1\nline2", ""},
		{"env:MISSING", "", "environment variable MISSING is not set"},
		{"env:EMPTY", "", "environment variable EMPTY is empty"},
		{"env:", "", `"" is not an environment variable name`},
		{"file:", "", "file: needs a path"},
		{"file:" + empty, "", "secret file " + empty + ": empty"},
		{"file:" + big, "", "secret file " + big + ": larger than 65536 bytes"},
		{"file:" + dir, "", "secret file " + dir + ": not a regular file"},
		{"file:/dev/null", "", "secret file /dev/null: not a regular file"},
	}
	for _, tc := range tests {
		src := strings.Replace(minimal, "env:MOODLE_DSN", `"`+tc.ref+`"`, 1)
		c, err := Parse("config.yaml", []byte(src), testEnv)
		if tc.wantErr != "" {
			want := "config.yaml:7: sites[0].dsn: " + tc.wantErr
			if err == nil || err.Error() != want {
				t.Errorf("%s: error %v, want %s", tc.ref, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.ref, err)
			continue
		}
		if got := c.Sites[0].DSN.Reveal(); got != tc.want {
			t.Errorf("%s: Reveal = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestDefaultSpoolDir(t *testing.T) {
	tests := []struct {
		euid int
		vars map[string]string
		want string
	}{
		{0, map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/root"}, "/var/lib/moodle-zabbix/spool"},
		// A service user without a home (HOME=/nonexistent) still gets the system location.
		{998, map[string]string{"HOME": "/nonexistent"}, "/var/lib/moodle-zabbix/spool"},
		{1000, map[string]string{"XDG_STATE_HOME": "/home/u/.state", "HOME": "/home/u"}, "/var/lib/moodle-zabbix/spool"},
		{998, map[string]string{"STATE_DIRECTORY": "/var/lib/moodle-zabbix"}, "/var/lib/moodle-zabbix/spool"},
		{998, map[string]string{"STATE_DIRECTORY": "/srv/mz:/var/lib/other"}, "/srv/mz/spool"},
		{998, map[string]string{"STATE_DIRECTORY": "relative"}, "/var/lib/moodle-zabbix/spool"},
	}
	for _, tc := range tests {
		if got := defaultSpoolDir(tc.euid, env(tc.vars)); got != tc.want {
			t.Errorf("defaultSpoolDir(%d, %v) = %q, want %q", tc.euid, tc.vars, got, tc.want)
		}
	}
}

func TestParentPath(t *testing.T) {
	tests := map[string]string{
		"zabbix.servers[2]":                "zabbix.servers",
		"zabbix.servers":                   "zabbix",
		"zabbix":                           "",
		`sites[0].macros["{$A.B[x]}"]`:     "sites[0].macros",
		`sites[10].roles.staff.archetypes`: "sites[10].roles.staff",
	}
	for in, want := range tests {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	if data, err := os.ReadFile("../../config.example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("zabbix: {servers: [\"[::1]\", a:1]}\nschedules: {daily: \"CRON_TZ=UTC\"}\nsites: [{<<: {name: x}, dsn: [1]}]\n"))
	f.Add([]byte("a: &a [*a]\nsites: &s\n  - <<: *s\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, testEnv)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not start with the file name: %v", err)
		}
	})
}
