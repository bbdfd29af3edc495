package zabbixapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestIntegrationHostLifecycle(t *testing.T) {
	t.Parallel()
	ztest.EachZabbix(t, testIntegrationHostLifecycle)
}

func testIntegrationHostLifecycle(t *testing.T, z *ztest.Env) {
	ctx := ctxFor(t)

	v, err := z.API.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !v.AtLeast(6, 0) {
		t.Fatalf("server version %v, want 6.0 or newer", v)
	}

	groupName := z.UniqueName("mz-test-group")
	groups, err := z.API.HostGroupGetOrCreate(ctx, groupName)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].GroupID == "" || groups[0].Name != groupName {
		t.Fatalf("groups = %+v", groups)
	}
	t.Cleanup(func() {
		if err := z.API.HostGroupDelete(context.Background(), groups[0].GroupID); err != nil {
			t.Error(err)
		}
	})
	again, err := z.API.HostGroupGetOrCreate(ctx, groupName)
	if err != nil || len(again) != 1 || again[0].GroupID != groups[0].GroupID {
		t.Fatalf("second GetOrCreate = %+v, %v; want the same group", again, err)
	}

	hostName := z.UniqueName("mz-test-host")
	hostID, err := z.API.HostCreate(ctx, zabbixapi.Host{
		Host:   hostName,
		Groups: groups,
		Tags:   []zabbixapi.Tag{{Tag: "service", Value: "moodle"}},
		Macros: []zabbixapi.Macro{{Macro: "{$MOODLE.SITE}", Value: "test"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			if err := z.API.HostDelete(context.Background(), hostID); err != nil {
				t.Error(err)
			}
		}
	})

	// A second host with the same name is refused with an API error.
	_, err = z.API.HostCreate(ctx, zabbixapi.Host{Host: hostName, Groups: groups})
	var apiErr *zabbixapi.APIError
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Data, "already exists") {
		t.Fatalf("duplicate host.create error = %v", err)
	}

	hosts, err := z.API.HostGet(ctx, hostName)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 {
		t.Fatalf("HostGet(%q) = %d hosts", hostName, len(hosts))
	}
	h := hosts[0]
	if h.HostID != hostID || h.Name != hostName || len(h.Groups) != 1 || h.Groups[0].GroupID != groups[0].GroupID {
		t.Fatalf("host = %+v", h)
	}
	if len(h.Tags) != 1 || h.Tags[0] != (zabbixapi.Tag{Tag: "service", Value: "moodle"}) {
		t.Fatalf("tags = %+v", h.Tags)
	}
	if len(h.Macros) != 1 || h.Macros[0].Macro != "{$MOODLE.SITE}" || h.Macros[0].Value != "test" {
		t.Fatalf("macros = %+v", h.Macros)
	}

	err = z.API.HostUpdate(ctx, zabbixapi.Host{
		HostID: hostID,
		Name:   hostName + " visible",
		Tags:   []zabbixapi.Tag{{Tag: "service", Value: "moodle"}, {Tag: "env", Value: "ci"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hosts, err = z.API.HostGet(ctx, hostName)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0].Name != hostName+" visible" || len(hosts[0].Tags) != 2 || len(hosts[0].Macros) != 1 {
		t.Fatalf("after update: %+v", hosts)
	}

	if err := z.API.HostDelete(ctx, hostID); err != nil {
		t.Fatal(err)
	}
	deleted = true
	hosts, err = z.API.HostGet(ctx, hostName)
	if err != nil || len(hosts) != 0 {
		t.Fatalf("after delete: %+v, %v", hosts, err)
	}
}

// uuid4 returns a random UUIDv4 as Zabbix templates want it: 32 hex digits.
func uuid4() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b)
}

func TestIntegrationImportSendHistoryProblem(t *testing.T) {
	t.Parallel()
	ztest.EachZabbix(t, testIntegrationImportSendHistoryProblem)
}

func testIntegrationImportSendHistoryProblem(t *testing.T, z *ztest.Env) {
	ctx := ctxFor(t)

	groupName := z.UniqueName("mz-test-templates")
	templateName := z.UniqueName("mz-test-template")
	const key = "mz.test.value"
	source := fmt.Sprintf(`zabbix_export:
  version: '6.0'
  groups:
    - uuid: %[1]s
      name: %[2]s
  templates:
    - uuid: %[3]s
      template: %[4]s
      name: %[4]s
      groups:
        - name: %[2]s
      items:
        - uuid: %[5]s
          name: 'Test value'
          type: TRAP
          key: %[6]s
          delay: '0'
          value_type: FLOAT
          triggers:
            - uuid: %[7]s
              expression: 'last(/%[4]s/%[6]s)>100'
              name: 'Test value too high'
              priority: WARNING
`, uuid4(), groupName, uuid4(), templateName, uuid4(), key, uuid4())

	rules, err := z.API.ImportRules(ctx, zabbixapi.ImportOptions{DeleteMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := z.API.ConfigurationImportCompare(ctx, "yaml", source, rules)
	if err != nil {
		t.Fatal(err)
	}
	if changes.Empty() || changes["templates"] == nil {
		t.Fatalf("compare before import = %v, want the template added", changes)
	}
	if err := z.API.ConfigurationImport(ctx, "yaml", source, rules); err != nil {
		t.Fatal(err)
	}
	templates, err := z.API.TemplateGet(ctx, templateName)
	if err != nil {
		t.Fatal(err)
	}
	if len(templates) != 1 {
		t.Fatalf("TemplateGet = %+v", templates)
	}
	t.Cleanup(func() {
		if err := z.API.TemplateDelete(context.Background(), templates[0].TemplateID); err != nil {
			t.Error(err)
		}
		if gs, err := z.API.HostGroupGet(context.Background(), groupName); err == nil && len(gs) == 1 {
			if err := z.API.HostGroupDelete(context.Background(), gs[0].GroupID); err != nil {
				t.Error(err)
			}
		}
	})
	changes, err = z.API.ConfigurationImportCompare(ctx, "yaml", source, rules)
	if err != nil {
		t.Fatal(err)
	}
	if !changes.Empty() {
		t.Fatalf("compare after import = %v, want no change", changes)
	}

	hostGroups, err := z.API.HostGroupGetOrCreate(ctx, groupName)
	if err != nil {
		t.Fatal(err)
	}
	hostName := z.UniqueName("mz-test-sender")
	hostID, err := z.API.HostCreate(ctx, zabbixapi.Host{Host: hostName, Groups: hostGroups, Templates: templates})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := z.API.HostDelete(context.Background(), hostID); err != nil {
			t.Error(err)
		}
	})

	items, err := z.API.ItemGet(ctx, zabbixapi.ItemQuery{HostIDs: []string{hostID}, Keys: []string{key}})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ValueType != zabbixapi.ValueFloat || items[0].Type != 2 {
		t.Fatalf("items = %+v", items)
	}
	triggers, err := z.API.TriggerGet(ctx, zabbixapi.TriggerQuery{HostIDs: []string{hostID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(triggers) != 1 || triggers[0].Description != "Test value too high" || triggers[0].Priority != 2 {
		t.Fatalf("triggers = %+v", triggers)
	}
	if !strings.Contains(triggers[0].Expression, hostName) {
		t.Fatalf("expression %q is not expanded to the host", triggers[0].Expression)
	}

	// The trapper refuses the new host until the configuration cache has it.
	z.ReloadConfigCache(t)
	send := func(value string) bool {
		out, err := exec.Command(z.Sender, "-z", hostOnly(z.Server), "-p", portOnly(z.Server),
			"-s", hostName, "-k", key, "-o", value).CombinedOutput()
		if err != nil {
			t.Logf("zabbix_sender: %v: %s", err, strings.TrimSpace(string(out)))
		}
		return err == nil
	}
	ztest.WaitFor(t, func() bool { return send("42.5") }, 30*time.Second)
	ztest.WaitFor(t, func() bool { return len(z.History(t, hostName, key)) == 1 }, 30*time.Second)
	if got := z.History(t, hostName, key)[0].Value; got != "42.5" {
		t.Fatalf("history value = %q, want 42.5", got)
	}

	if !send("500") {
		t.Fatal("second value refused")
	}
	var problems []zabbixapi.Problem
	ztest.WaitFor(t, func() bool {
		problems, err = z.API.ProblemGet(ctx, zabbixapi.ProblemQuery{HostIDs: []string{hostID}})
		return err == nil && len(problems) == 1
	}, 30*time.Second)
	if problems[0].Name != "Test value too high" || problems[0].ObjectID != triggers[0].TriggerID || problems[0].Severity != 2 {
		t.Fatalf("problem = %+v", problems[0])
	}
	values := z.History(t, hostName, key)
	if len(values) != 2 || values[1].Value != "500" || values[1].Time().Before(values[0].Time()) {
		t.Fatalf("history = %+v", values)
	}
}

func hostOnly(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func portOnly(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestIntegrationServerStopStart stops and starts the shared server through
// the harness: other Zabbix tests wait meanwhile.
func TestIntegrationServerStopStart(t *testing.T) {
	ztest.EachZabbix(t, testIntegrationServerStopStart)
}

func testIntegrationServerStopStart(t *testing.T, z *ztest.Env) {
	dial := func() error {
		c, err := net.DialTimeout("tcp", z.Server, 2*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("server not reachable before stop: %v", err)
	}
	z.StopServer(t)
	if err := dial(); err == nil {
		t.Fatal("server port still open after StopServer")
	}
	// The API works without the server.
	if _, err := z.API.HostGroupGet(ctxFor(t), "Discovered hosts"); err != nil {
		t.Fatal(err)
	}
	z.StartServer(t)
	if err := dial(); err != nil {
		t.Fatalf("server not reachable after StartServer: %v", err)
	}
}
