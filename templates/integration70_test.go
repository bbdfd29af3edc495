package templates

import (
	"context"
	"testing"

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

// TestZabbix70ImportsOlderFormats imports the fixture's templates in the 6.2 and 6.4 formats
// into a real Zabbix 7.0, the nearest real server to those versions. The 7.0 format, fixture
// and catalogue alike, is imported and re-imported by TestZabbixImport/7.0.
func TestZabbix70ImportsOlderFormats(t *testing.T) {
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
	for _, v := range []string{"6.2", "6.4"} {
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
	}
}
