// Package packaging_test checks that the shipped cron file, systemd unit and Makefile agree
// with each other and with the program: same binary path, same service user, every family on
// its default schedule, full paths that work under cron's PATH, the state directory the
// program uses by default.
package packaging_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/cmd/moodle-zabbix/app"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/scheduler"
)

const (
	binary      = "/usr/local/bin/moodle-zabbix"
	serviceUser = "moodle-zabbix"
)

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCronFile(t *testing.T) {
	text := read(t, "moodle-zabbix.cron")
	families := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(k, " \t") {
			if k == "PATH" {
				for _, d := range strings.Split(v, ":") {
					if !filepath.IsAbs(d) {
						t.Errorf("line %d: PATH entry %q is not absolute", i+1, d)
					}
				}
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 8 {
			t.Fatalf("line %d: %q is not 'm h dom mon dow user command'", i+1, line)
		}
		spec, user, cmd := strings.Join(f[:5], " "), f[5], f[6:]
		if user != serviceUser {
			t.Errorf("line %d: runs as %q, want %q", i+1, user, serviceUser)
		}
		if cmd[0] != binary {
			t.Errorf("line %d: command %q, want the full path %s (cron's PATH is /usr/bin:/bin)", i+1, cmd[0], binary)
		}
		args := strings.Join(cmd[1:], " ")
		if !strings.Contains(args, "--config "+app.DefaultConfigPath) {
			t.Errorf("line %d: no --config %s", i+1, app.DefaultConfigPath)
		}
		m := regexp.MustCompile(`^run .*--family (\w+)$`).FindStringSubmatch(args)
		if m == nil {
			t.Fatalf("line %d: %q is not a run of one family", i+1, args)
		}
		if want := scheduler.DefaultSpecs[m[1]]; spec != want {
			t.Errorf("line %d: %s runs at %q, the default schedule is %q", i+1, m[1], spec, want)
		}
		families[m[1]] = spec
	}
	for _, f := range measures.Families {
		if _, ok := families[f.String()]; !ok {
			t.Errorf("family %s has no cron line", f)
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	text := read(t, "moodle-zabbix.service")
	set := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			set[k] = v
		}
	}
	want := map[string]string{
		"User":                  serviceUser,
		"Group":                 serviceUser,
		"ExecStart":             binary + " daemon --config " + app.DefaultConfigPath,
		"StateDirectory":        "moodle-zabbix",
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"ProtectHome":           "yes",
		"PrivateTmp":            "yes",
		"CapabilityBoundingSet": "",
		"WantedBy":              "multi-user.target",
	}
	for k, v := range want {
		if got, ok := set[k]; !ok || got != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	// The state directory systemd creates is the one the program uses by default.
	if dir := "/var/lib/" + set["StateDirectory"]; filepath.Dir(config.RootSpoolDir) != dir {
		t.Errorf("StateDirectory %s, but the default spool is %s", dir, config.RootSpoolDir)
	}
}

func TestMakefileStampsVersion(t *testing.T) {
	text := read(t, "../Makefile")
	pkg := reflect.TypeOf(app.Outcome{}).PkgPath()
	for _, v := range []string{"Version", "Commit"} {
		if !strings.Contains(text, "-X $(APP)."+v+"=") {
			t.Errorf("Makefile does not stamp %s", v)
		}
	}
	if !strings.Contains(text, "APP     := "+pkg+"\n") {
		t.Errorf("Makefile's APP is not %s", pkg)
	}
	if !strings.Contains(text, "PREFIX  ?= "+filepath.Dir(filepath.Dir(binary))+"\n") {
		t.Errorf("Makefile's PREFIX does not install %s", binary)
	}
}
