package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/catalogue"
)

// The integration test imports the generated 6.0 YAML into a real Zabbix 6.0 server through
// its API: the import errors of Zabbix are the real test of the field names. It needs
// MZ_ZABBIX_API (the API URL), MZ_ZABBIX_USER and MZ_ZABBIX_PASSWORD, as written in
// .ci/services.env, and skips visibly without them.

// rpc is a minimal JSON-RPC client for the Zabbix 6.0 API, enough for configuration.import.
type rpc struct {
	url   string
	token string
	id    int
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

func (c *rpc) call(ctx context.Context, method string, params, result any) error {
	c.id++
	req := map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": c.id}
	if c.token != "" && method != "apiinfo.version" && method != "user.login" {
		req["auth"] = c.token
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	hr.Header.Set("Content-Type", "application/json-rpc")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("%s: HTTP %s: %w", method, resp.Status, err)
	}
	if out.Error != nil {
		return fmt.Errorf("%s: %s %s", method, out.Error.Message, out.Error.Data)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(out.Result, result); err != nil {
		return fmt.Errorf("%s: decode result: %w", method, err)
	}
	return nil
}

func zabbixFromEnv(t *testing.T) (*rpc, context.Context) {
	t.Helper()
	url := os.Getenv("MZ_ZABBIX_API")
	if url == "" {
		t.Skip("MZ_ZABBIX_API is not set: skipping the import into a real Zabbix server (source .ci/services.env to run it)")
	}
	if !strings.HasSuffix(url, ".php") {
		url = strings.TrimRight(url, "/") + "/api_jsonrpc.php"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	c := &rpc{url: url}
	user, pass := os.Getenv("MZ_ZABBIX_USER"), os.Getenv("MZ_ZABBIX_PASSWORD")
	if user == "" {
		user, pass = "Admin", "zabbix"
	}
	if err := c.call(ctx, "user.login", map[string]string{"username": user, "password": pass}, &c.token); err != nil {
		t.Fatalf("login to %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.call(context.Background(), "user.logout", []any{}, nil) })
	return c, ctx
}

// importRules creates and updates every kind of object the templates hold; deleteMissing
// removes what a newer catalogue no longer has, as the install command does.
func importRules(deleteMissing bool) map[string]any {
	cu := map[string]bool{"createMissing": true, "updateExisting": true}
	cud := map[string]bool{"createMissing": true, "updateExisting": true, "deleteMissing": deleteMissing}
	return map[string]any{
		"groups":             map[string]bool{"createMissing": true},
		"templates":          cu,
		"items":              cud,
		"discoveryRules":     cud,
		"triggers":           cud,
		"graphs":             cud,
		"valueMaps":          cud,
		"templateDashboards": cud,
	}
}

func importYAML(ctx context.Context, c *rpc, y []byte, deleteMissing bool) error {
	var ok bool
	return c.call(ctx, "configuration.import", map[string]any{
		"format": "yaml", "source": string(y), "rules": importRules(deleteMissing),
	}, &ok)
}

// compare returns the changes Zabbix would make importing y, or "" when there are none.
func compare(ctx context.Context, c *rpc, y []byte) (string, error) {
	var changes json.RawMessage
	err := c.call(ctx, "configuration.importcompare", map[string]any{
		"format": "yaml", "source": string(y), "rules": importRules(true),
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

func TestZabbixImport(t *testing.T) {
	c, ctx := zabbixFromEnv(t)

	// The fixture covers what the catalogue may not yet use (multi-item triggers, recovery
	// expressions, value maps, trigger and graph prototypes). Its templates get their own names
	// and are deleted afterwards; the fleet template is left to the catalogue import.
	const prefix = "MZ templates test "
	fx := fixtureRegistryNamed(t, prefix)
	names := fx.Templates()
	fe, err := Build(fx, Options{Templates: names})
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

	e, err := Build(catalogue.Registry(), Options{})
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
