package templates

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
)

// zabbix70FromEnv returns the Zabbix 7.0 test server's API, holding the harness's shared hold
// on that server so that no test stops it meanwhile.
func zabbix70FromEnv(t *testing.T) (*rpc, context.Context) {
	t.Helper()
	return zabbixFromEnv(t, ztest.ZabbixVersion(t, "7.0"))
}

// importRules70 are the import rules of the 7.0 format.
func importRules70() map[string]any { return importRules("7.0", true) }

func import70(ctx context.Context, c *rpc, y []byte) error {
	var ok bool
	return c.call(ctx, "configuration.import", map[string]any{"format": "yaml", "source": string(y), "rules": importRules70()}, &ok)
}

func compare70(ctx context.Context, c *rpc, y []byte) (string, error) {
	var changes json.RawMessage
	if err := c.call(ctx, "configuration.importcompare", map[string]any{"format": "yaml", "source": string(y), "rules": importRules70()}, &changes); err != nil {
		return "", err
	}
	if s := strings.TrimSpace(string(changes)); s != "[]" && s != "{}" && s != "null" {
		return s, nil
	}
	return "", nil
}

// TestZabbix70Import imports the templates into a real Zabbix 7.0: the fixture in every format
// newer than 6.0 (7.0 is the nearest real server to 6.2 and 6.4), and the catalogue in the 7.0
// format, which a second import must leave unchanged (dashboards included: widgets and their
// fields in 7.0's export order).
func TestZabbix70Import(t *testing.T) {
	c, ctx := zabbix70FromEnv(t)

	const prefix = "MZ templates 70 test "
	fx := fixtureRegistryNamed(t, prefix)
	names := fx.Templates()
	t.Cleanup(func() {
		var got []struct {
			TemplateID string `json:"templateid"`
		}
		if err := c.call(context.Background(), "template.get", map[string]any{
			"output": []string{"templateid"}, "filter": map[string]any{"host": names},
		}, &got); err != nil || len(got) == 0 {
			return
		}
		var ids []string
		for _, g := range got {
			ids = append(ids, g.TemplateID)
		}
		if err := c.call(context.Background(), "template.delete", ids, nil); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	for _, v := range []string{"6.2", "6.4", "7.0"} {
		e, err := Build(fx, Options{ZabbixVersion: v, Templates: names})
		if err != nil {
			t.Fatal(err)
		}
		y, err := e.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := import70(ctx, c, y); err != nil {
			t.Fatalf("import of the %s fixture templates into 7.0: %v", v, err)
		}
		if v != "7.0" {
			continue
		}
		if changes, err := compare70(ctx, c, y); err != nil || changes != "" {
			t.Errorf("fixture re-import on 7.0 would change things (err %v): %.4000s", err, changes)
		}
	}

	e, err := Build(catalogue.Registry(), Options{ZabbixVersion: "7.0"})
	if err != nil {
		t.Fatal(err)
	}
	y, err := e.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := import70(ctx, c, y); err != nil {
		t.Fatalf("import of the catalogue templates into 7.0: %v", err)
	}
	changes, err := compare70(ctx, c, y)
	if err != nil {
		t.Fatal(err)
	}
	if changes != "" {
		t.Errorf("after an import into 7.0, importing again would still change things:\n%.4000s", changes)
	}
}
