package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// Diagnose explains, through the API, why Zabbix may have refused values sent for host: the
// trapper answers only with counts, so the host and every sent key are looked up and each
// that Zabbix would refuse is named with its cause. discovered marks keys of items that a
// discovery rule creates (their absence means the discovery is still pending). It returns no
// line when host and items all look right, which leaves the configuration cache as the cause.
func Diagnose(ctx context.Context, api Caller, host string, keys []string, discovered map[string]bool) ([]string, error) {
	if isNil(api) {
		return nil, nil
	}
	ver, err := fetchVersion(ctx, api)
	if err != nil {
		return nil, err
	}
	var hosts []map[string]json.RawMessage
	err = api.Call(ctx, "host.get", map[string]any{
		"output": append([]string{"hostid", "host", "status"}, ver.proxyFields()...),
		"filter": map[string]any{"host": []string{host}},
	}, &hosts)
	if err != nil {
		return nil, fmt.Errorf("host.get: %w", err)
	}
	if len(hosts) == 0 {
		return []string{fmt.Sprintf("host %s is unknown to Zabbix: run 'moodle-zabbix install' or fix the host name", host)}, nil
	}
	var h struct {
		HostID      flexString `json:"hostid"`
		Status      flexString `json:"status"`
		ProxyHostID flexString `json:"proxy_hostid"`
		ProxyID     flexString `json:"proxyid"`
		MonitoredBy flexString `json:"monitored_by"`
	}
	whole, _ := json.Marshal(hosts[0])
	if err := json.Unmarshal(whole, &h); err != nil {
		return nil, fmt.Errorf("host.get: decode: %w", err)
	}
	var out []string
	if h.Status != "0" {
		out = append(out, fmt.Sprintf("host %s is disabled in Zabbix: the trapper refuses all its values", host))
	}
	if (h.ProxyHostID != "" && h.ProxyHostID != "0") || (h.MonitoredBy != "" && h.MonitoredBy != "0") {
		out = append(out, fmt.Sprintf("host %s is monitored by a proxy: send its values to that proxy, not to the server", host))
	}
	var items []struct {
		Key    string     `json:"key_"`
		Type   flexString `json:"type"`
		Status flexString `json:"status"`
	}
	err = api.Call(ctx, "item.get", map[string]any{
		"output":  []string{"key_", "type", "status"},
		"hostids": []string{string(h.HostID)},
		"filter":  map[string]any{"key_": keys},
	}, &items)
	if err != nil {
		return out, fmt.Errorf("item.get: %w", err)
	}
	found := map[string]bool{}
	for _, it := range items {
		found[it.Key] = true
		switch {
		case it.Type != "2":
			out = append(out, fmt.Sprintf("item %s is not a Zabbix trapper item (type %s)", it.Key, it.Type))
		case it.Status != "0":
			out = append(out, fmt.Sprintf("item %s is disabled", it.Key))
		}
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for _, k := range sorted {
		if found[k] {
			continue
		}
		if discovered[k] {
			out = append(out, fmt.Sprintf("item %s does not exist yet: its discovery is pending (values are accepted once Zabbix has created it)", k))
		} else {
			out = append(out, fmt.Sprintf("item %s does not exist on host %s: import the current templates ('moodle-zabbix install')", k, host))
		}
	}
	return out, nil
}
