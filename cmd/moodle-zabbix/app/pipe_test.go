package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// TestSenderPipeIntoZabbixSender is the PSK path without the PSK: the values written by
// output sender-file:- are piped into the official zabbix_sender, which delivers them all to
// the real server; on 7.0 with 7.0's own zabbix_sender.
func TestSenderPipeIntoZabbixSender(t *testing.T) {
	ztest.EachZabbix(t, testSenderPipeIntoZabbixSender)
}

func testSenderPipeIntoZabbixSender(t *testing.T, env *ztest.Env) {
	ctx := context.Background()
	now := time.Now()
	dsn := testSite(t, now)
	group, host := ztest.UniqueName("Moodle pipe"), ztest.UniqueName("moodle-pipe")
	dir := t.TempDir()
	write := func(name, output string) string {
		path := filepath.Join(dir, name)
		cfg := fmt.Sprintf(`zabbix:
  servers: ["%s"]
  output: "%s"
  spool: {dir: %s}
  api: {url: "%s", username: "%s", password: "env:MZ_ZABBIX_PASSWORD"}
sites:
  - {name: main, host: "%s", driver: sqlite, dsn: "%s", groups: ["%s"]}
`, env.Server, output, filepath.Join(dir, "spool"), env.URL, os.Getenv("MZ_ZABBIX_USER"), host, dsn, group)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Cleanup(func() {
		deleteHosts(t, env.API, host)
		deleteGroups(t, env.API, group)
	})
	if code, out, errs := runCLI(t, "install", "--config", write("install.yaml", "")); code != ExitOK {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errs)
	}
	env.ReloadConfigCache(t)
	client, err := sender.NewClient(sender.Options{Servers: []string{env.Server}})
	if err != nil {
		t.Fatal(err)
	}
	ztest.WaitFor(t, func() bool {
		res, _ := client.Send(ctx, []sender.Item{{Host: host, Key: "moodle.general.instance", Value: "1", Clock: now.Unix() - 3600}})
		return res.Processed == 1
	}, 60*time.Second)

	code, values, report := runCLI(t, "run", "--family", "hourly", "--config", write("pipe.yaml", "sender-file:-"))
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, report)
	}
	n := strings.Count(values, "\n")
	hostPort := strings.Split(env.Server, ":")
	cmd := exec.Command(env.Sender, "-z", hostPort[0], "-p", hostPort[1], "-T", "-N", "-i", "-")
	cmd.Stdin = strings.NewReader(values)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("zabbix_sender: %v\n%s", err, out.String())
	}
	m := regexp.MustCompile(`processed: (\d+); failed: (\d+); total: (\d+)`).FindAllStringSubmatch(out.String(), -1)
	processed, failed := 0, 0
	for _, g := range m {
		p, _ := strconv.Atoi(g[1])
		f, _ := strconv.Atoi(g[2])
		processed, failed = processed+p, failed+f
	}
	if n == 0 || processed != n || failed != 0 {
		t.Errorf("zabbix_sender delivered %d of %d values, %d failed:\n%s", processed, n, failed, out.String())
	}
}
