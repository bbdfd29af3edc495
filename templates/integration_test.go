package templates

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/zabbixapi"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

// The integration test imports the generated 6.0 YAML into a real Zabbix 6.0 server through
// its API: the import errors of Zabbix are the real test of the field names. It needs
// the MZ_ZABBIX_* variables of .ci/services.env, and skips visibly without them.

// rpc adapts the project's API client to the calls below; version is the server's ("6.0").
type rpc struct {
	api     *zabbixapi.Client
	version string
}

func (c *rpc) call(ctx context.Context, method string, params, result any) error {
	return c.api.Call(ctx, method, params, result)
}

// zabbixFromEnv returns a test server's API through internal/ztest, which skips visibly
// without one (fails in CI) and keeps the test off a server a fault test has stopped.
func zabbixFromEnv(t *testing.T, e *ztest.Env) (*rpc, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return &rpc{api: e.API, version: e.TestServer.Version}, ctx
}

// importRules creates and updates every kind of object the templates hold; deleteMissing
// removes what a newer catalogue no longer has, as the install command does. 6.2 split the
// rule "groups" into "template_groups" and "host_groups".
func importRules(version string, deleteMissing bool) map[string]any {
	cu := map[string]bool{"createMissing": true, "updateExisting": true}
	cud := map[string]bool{"createMissing": true, "updateExisting": true, "deleteMissing": deleteMissing}
	groups := map[string]any{"groups": map[string]bool{"createMissing": true}}
	if version != "6.0" {
		groups = map[string]any{"template_groups": map[string]bool{"createMissing": true},
			"host_groups": map[string]bool{"createMissing": true}}
	}
	rules := map[string]any{
		"templates":          cu,
		"items":              cud,
		"discoveryRules":     cud,
		"triggers":           cud,
		"graphs":             cud,
		"valueMaps":          cud,
		"templateDashboards": cud,
	}
	for k, v := range groups {
		rules[k] = v
	}
	return rules
}

func importYAML(ctx context.Context, c *rpc, y []byte, deleteMissing bool) error {
	var ok bool
	return c.call(ctx, "configuration.import", map[string]any{
		"format": "yaml", "source": string(y), "rules": importRules(c.version, deleteMissing),
	}, &ok)
}

// compare returns the changes Zabbix would make importing y, or "" when there are none.
func compare(ctx context.Context, c *rpc, y []byte) (string, error) {
	var changes json.RawMessage
	err := c.call(ctx, "configuration.importcompare", map[string]any{
		"format": "yaml", "source": string(y), "rules": importRules(c.version, true),
	}, &changes)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(changes))
	if s == "[]" || s == "{}" || s == "null" {
		return "", nil
	}
	return s, nil
}

// TestZabbixImport imports on each test server the export format of its version.
func TestZabbixImport(t *testing.T) { ztest.EachZabbix(t, testZabbixImport) }

func testZabbixImport(t *testing.T, z *ztest.Env) {
	c, ctx := zabbixFromEnv(t, z)
	version := z.TestServer.Version

	// The fixture covers what the catalogue may not yet use (multi-item triggers, recovery
	// expressions, value maps, trigger and graph prototypes). Its templates get their own names
	// and are deleted afterwards; the fleet template is left to the catalogue import.
	const prefix = "MZ templates test "
	fx := fixtureRegistryNamed(t, prefix)
	names := fx.Templates()
	fe, err := Build(fx, Options{Templates: names, ZabbixVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	fy, err := fe.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := importYAML(ctx, c, fy, true); err != nil {
		t.Fatalf("import of the fixture templates: %v", err)
	}
	t.Cleanup(func() {
		var got []struct {
			TemplateID string `json:"templateid"`
		}
		if err := c.call(context.Background(), "template.get", map[string]any{
			"output": []string{"templateid"}, "filter": map[string]any{"host": names},
		}, &got); err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		var ids []string
		for _, g := range got {
			ids = append(ids, g.TemplateID)
		}
		if len(ids) > 0 {
			if err := c.call(context.Background(), "template.delete", ids, nil); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	if changes, err := compare(ctx, c, fy); err != nil || changes != "" {
		t.Errorf("fixture re-import would change things (err %v): %s", err, changes)
	}

	e, err := Build(catalogue.Registry(), Options{ZabbixVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	y, err := e.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := importYAML(ctx, c, y, true); err != nil {
		t.Fatalf("first import of the catalogue templates: %v", err)
	}
	if err := importYAML(ctx, c, y, true); err != nil {
		t.Fatalf("second import of the catalogue templates: %v", err)
	}
	changes, err := compare(ctx, c, y)
	if err != nil {
		t.Fatal(err)
	}
	if changes != "" {
		if len(changes) > 4000 {
			changes = changes[:4000] + "..."
		}
		t.Errorf("after two imports, importing again would still change things (uuids not stable, or fields "+
			"Zabbix normalises differently):\n%s", changes)
	}

	// Every template, item and prototype of the export exists on the server.
	for _, tpl := range e.Templates {
		var got []struct {
			UUID  string `json:"uuid"`
			Items []struct {
				Key string `json:"key_"`
			} `json:"items"`
			Discoveries []struct {
				Key string `json:"key_"`
			} `json:"discoveries"`
		}
		if err := c.call(ctx, "template.get", map[string]any{
			"output": []string{"uuid"}, "filter": map[string]any{"host": tpl.Template},
			"selectItems": []string{"key_"}, "selectDiscoveries": []string{"key_"},
		}, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Errorf("template %s: found %d on the server", tpl.Template, len(got))
			continue
		}
		if got[0].UUID != tpl.UUID {
			t.Errorf("template %s: server uuid %s, export %s", tpl.Template, got[0].UUID, tpl.UUID)
		}
		if len(got[0].Items) != len(tpl.Items) || len(got[0].Discoveries) != len(tpl.DiscoveryRules) {
			t.Errorf("template %s: server has %d items and %d rules, export %d and %d", tpl.Template,
				len(got[0].Items), len(got[0].Discoveries), len(tpl.Items), len(tpl.DiscoveryRules))
		}
	}
}
