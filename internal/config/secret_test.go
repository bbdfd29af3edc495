package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecretBasics(t *testing.T) {
	var zero Secret
	if zero.IsSet() || zero.Reveal() != "" || zero.Ref() != "" {
		t.Error("zero Secret is not unset")
	}
	s := NewSecret("hunter2")
	if !s.IsSet() || s.Reveal() != "hunter2" || s.Ref() != "literal" {
		t.Errorf("NewSecret: set %v ref %q", s.IsSet(), s.Ref())
	}
	if NewSecret("").IsSet() {
		t.Error(`NewSecret("") is set`)
	}
}

// TestSecretNeverLeaks loads secrets of every kind and checks that no
// printing, logging or encoding path shows them, nor any error message.
func TestSecretNeverLeaks(t *testing.T) {
	const (
		literal = "LITERAL-s3cr3t-9f1c"
		fromEnv = "ENV-s3cr3t-77aa"
		inFile  = "FILE-s3cr3t-02bd"
	)
	secrets := []string{literal, fromEnv, inFile}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(inFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"DSN": fromEnv})
	src := `zabbix:
  servers: [zbx]
  api:
    url: https://zabbix.example.org/api_jsonrpc.php
    username: admin
    password: file:pw
sites:
  - {name: a, host: moodle-a, driver: mysql, dsn: "` + literal + `"}
  - {name: b, host: moodle-b, driver: postgres, dsn: env:DSN}
`
	c, err := Parse(filepath.Join(dir, "config.yaml"), []byte(src), getenv)
	if err != nil {
		t.Fatal(err)
	}
	// The values are really there, so the checks below are not vacuous.
	if c.Sites[0].DSN.Reveal() != literal || c.Sites[1].DSN.Reveal() != fromEnv || c.Zabbix.API.Password.Reveal() != inFile {
		t.Fatal("secrets not loaded")
	}

	var outputs []string
	add := func(what string, b []byte, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		outputs = append(outputs, what+": "+string(b))
	}
	for _, v := range []any{c, *c, c.Sites[0], c.Sites[1].DSN, &c.Sites[1].DSN, c.Zabbix.API, *c.Zabbix.API} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%10.3s"} {
			outputs = append(outputs, verb+": "+fmt.Sprintf(verb, v))
		}
		outputs = append(outputs, fmt.Sprint(v), fmt.Sprintln(v))
		b, err := json.Marshal(v)
		add("json", b, err)
		b, err = yaml.Marshal(v)
		add("yaml", b, err)
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("config", "cfg", c, "site", c.Sites[0], "dsn", c.Sites[1].DSN, "pw", c.Zabbix.API.Password)
		l.Info("group", slog.Group("g", "dsn", c.Sites[0].DSN), slog.Any("api", c.Zabbix.API))
		l.Error("failed", "err", fmt.Errorf("connect %v: %w", c.Sites[0].DSN, os.ErrClosed))
	}
	outputs = append(outputs, logs.String())

	// Problems near the secrets must not quote them either.
	bad := []string{
		strings.Replace(src, "driver: mysql", "driver: oracle", 1),
		strings.Replace(src, "dsn: env:DSN", "dsn: env:DSN, colour: red", 1),
		strings.Replace(src, `dsn: "`+literal+`"`, `dsn: {`+literal+`: `+literal+`}`, 1),
		strings.Replace(src, `dsn: "`+literal+`"`, `dsn: ["`+literal+`"]`, 1),
		strings.Replace(src, `dsn: "`+literal+`"`, `dns: "`+literal+`"`, 1),
		strings.Replace(src, "username: admin", "token: "+literal, 1),
		strings.Replace(src, "password: file:pw", "password: "+literal+"\n    password: "+literal, 1),
		src + "zabbix: {}\n",
	}
	for i, b := range bad {
		_, err := Parse(filepath.Join(dir, "config.yaml"), []byte(b), getenv)
		if err == nil {
			t.Fatalf("bad config %d parsed", i)
		}
		outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}

	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("secret %q leaked in:\n%s", s, out)
			}
		}
	}
	if !strings.Contains(strings.Join(outputs, "\n"), "[redacted]") {
		t.Error("no [redacted] marker anywhere: the outputs do not print secrets at all?")
	}
}
