package provision

import (
	"context"
	"strings"
	"testing"
)

// TestDiagnoseIntegration names each cause of refusal the API can see: an unknown host, a key
// without an item, a discovered item still pending, and a disabled item.
func TestDiagnoseIntegration(t *testing.T) { eachZabbix(t, testDiagnoseIntegration) }

func testDiagnoseIntegration(t *testing.T, z *zabbixEnv) {
	ctx := context.Background()
	lines, err := Diagnose(ctx, z.API, uniqueName("mz-nohost"), []string{"moodle.users.active"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "unknown to Zabbix") {
		t.Errorf("unknown host: %q", lines)
	}

	host := installSite(t, z, senderTo(t, z.Server))
	keys := []string{"moodle.users.active", "moodle.nope", "moodle.auth.users[manual]"}
	lines, err = Diagnose(ctx, z.API, host, keys, map[string]bool{"moodle.auth.users[manual]": true})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(lines, "\n")
	if len(lines) != 2 || !strings.Contains(text, "moodle.nope does not exist") || !strings.Contains(text, "discovery is pending") {
		t.Errorf("diagnosis:\n%s", text)
	}

	var items []struct {
		ItemID string `json:"itemid"`
	}
	var hosts []struct {
		HostID string `json:"hostid"`
	}
	if err := z.API.Call(ctx, "host.get", map[string]any{"output": []string{"hostid"}, "filter": map[string]any{"host": host}}, &hosts); err != nil || len(hosts) != 1 {
		t.Fatalf("host.get: %v", err)
	}
	if err := z.API.Call(ctx, "item.get", map[string]any{"output": []string{"itemid"}, "hostids": hosts[0].HostID,
		"filter": map[string]any{"key_": "moodle.users.active"}}, &items); err != nil || len(items) != 1 {
		t.Fatalf("item.get: %v", err)
	}
	if err := z.API.Call(ctx, "item.update", map[string]any{"itemid": items[0].ItemID, "status": 1}, nil); err != nil {
		t.Fatalf("item.update: %v", err)
	}
	lines, err = Diagnose(ctx, z.API, host, []string{"moodle.users.active"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "disabled") {
		t.Errorf("disabled item: %q", lines)
	}
}
