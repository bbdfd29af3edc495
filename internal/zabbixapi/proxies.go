package zabbixapi

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// HostRoute says which Zabbix component receives trapper values for a host: the server, one
// proxy, or (7.0) any proxy of a proxy group.
type HostRoute struct {
	// Host is the host's technical name.
	Host string
	// Proxy is the name of the proxy that monitors the host; empty when the server does or a
	// proxy group does.
	Proxy string
	// ProxyGroup is the name of the proxy group that monitors the host (7.0); empty otherwise.
	ProxyGroup string
	// Proxies lists the proxies that may receive the host's values: Proxy alone, or every
	// proxy of ProxyGroup. Empty when the server monitors the host.
	Proxies []ProxyInfo
}

// ViaProxy reports whether a proxy or a proxy group monitors the host.
func (r HostRoute) ViaProxy() bool { return r.Proxy != "" || r.ProxyGroup != "" }

// ProxyInfo is what the API tells about a proxy's listening address.
type ProxyInfo struct {
	// Name is the proxy name (its Hostname= in zabbix_proxy.conf).
	Name string
	// Passive is true for a passive proxy, which the server connects to.
	Passive bool
	// Address is where the proxy listens for trapper connections, "host:port", when the API
	// knows it: a passive proxy's interface (6.0) or address and port (7.0), or the local
	// address of a proxy in a group (7.0). Empty for an active proxy outside a group: the API
	// does not know where it listens.
	Address string
}

// HostRoutes returns, for each host name found, who receives its trapper values. Hosts that
// do not exist are left out.
func (c *Client) HostRoutes(ctx context.Context, names ...string) ([]HostRoute, error) {
	v, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	if v.AtLeast(7, 0) {
		return c.hostRoutes70(ctx, names)
	}
	return c.hostRoutes60(ctx, names)
}

func (c *Client) hostRoutes60(ctx context.Context, names []string) ([]HostRoute, error) {
	var hosts []struct {
		Host        string `json:"host"`
		ProxyHostID string `json:"proxy_hostid"`
	}
	if err := c.Call(ctx, "host.get", map[string]any{
		"output": []string{"host", "proxy_hostid"},
		"filter": map[string]any{"host": names},
	}, &hosts); err != nil {
		return nil, fmt.Errorf("host routes: %w", err)
	}
	var ids []string
	for _, h := range hosts {
		if h.ProxyHostID != "" && h.ProxyHostID != "0" {
			ids = append(ids, h.ProxyHostID)
		}
	}
	proxies := map[string]ProxyInfo{}
	if len(ids) > 0 {
		var raw []struct {
			ProxyID   string `json:"proxyid"`
			Host      string `json:"host"`
			Status    Int    `json:"status"`
			Interface any    `json:"interface"` // an object for a passive proxy, [] otherwise
		}
		if err := c.Call(ctx, "proxy.get", map[string]any{
			"output":          []string{"proxyid", "host", "status"},
			"proxyids":        ids,
			"selectInterface": []string{"ip", "dns", "useip", "port"},
		}, &raw); err != nil {
			return nil, fmt.Errorf("host routes: %w", err)
		}
		for _, p := range raw {
			info := ProxyInfo{Name: p.Host, Passive: p.Status == 6}
			if m, ok := p.Interface.(map[string]any); ok && info.Passive {
				host := str(m["dns"])
				if str(m["useip"]) == "1" {
					host = str(m["ip"])
				}
				info.Address = joinAddr(host, str(m["port"]))
			}
			proxies[p.ProxyID] = info
		}
	}
	out := make([]HostRoute, 0, len(hosts))
	for _, h := range hosts {
		r := HostRoute{Host: h.Host}
		if p, ok := proxies[h.ProxyHostID]; ok {
			r.Proxy = p.Name
			r.Proxies = []ProxyInfo{p}
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *Client) hostRoutes70(ctx context.Context, names []string) ([]HostRoute, error) {
	var hosts []struct {
		Host         string `json:"host"`
		MonitoredBy  Int    `json:"monitored_by"`
		ProxyID      string `json:"proxyid"`
		ProxyGroupID string `json:"proxy_groupid"`
	}
	if err := c.Call(ctx, "host.get", map[string]any{
		"output": []string{"host", "monitored_by", "proxyid", "proxy_groupid"},
		"filter": map[string]any{"host": names},
	}, &hosts); err != nil {
		return nil, fmt.Errorf("host routes: %w", err)
	}
	var proxyIDs, groupIDs []string
	for _, h := range hosts {
		switch h.MonitoredBy {
		case 1:
			proxyIDs = append(proxyIDs, h.ProxyID)
		case 2:
			groupIDs = append(groupIDs, h.ProxyGroupID)
		}
	}
	type proxy struct {
		ProxyID       string `json:"proxyid"`
		Name          string `json:"name"`
		OperatingMode Int    `json:"operating_mode"`
		Address       string `json:"address"`
		Port          string `json:"port"`
		LocalAddress  string `json:"local_address"`
		LocalPort     string `json:"local_port"`
		ProxyGroupID  string `json:"proxy_groupid"`
	}
	byID := map[string]ProxyInfo{}
	byGroup := map[string][]ProxyInfo{}
	groupName := map[string]string{}
	if len(proxyIDs)+len(groupIDs) > 0 {
		params := map[string]any{
			"output": []string{"proxyid", "name", "operating_mode", "address", "port", "local_address", "local_port", "proxy_groupid"},
		}
		var raw []proxy
		if err := c.Call(ctx, "proxy.get", params, &raw); err != nil {
			return nil, fmt.Errorf("host routes: %w", err)
		}
		for _, p := range raw {
			info := ProxyInfo{Name: p.Name, Passive: p.OperatingMode == 1}
			switch {
			case p.LocalAddress != "":
				// A proxy in a group: where agents and senders reach it.
				info.Address = joinAddr(p.LocalAddress, p.LocalPort)
			case info.Passive:
				info.Address = joinAddr(p.Address, p.Port)
			}
			byID[p.ProxyID] = info
			if p.ProxyGroupID != "" && p.ProxyGroupID != "0" {
				byGroup[p.ProxyGroupID] = append(byGroup[p.ProxyGroupID], info)
			}
		}
		if len(groupIDs) > 0 {
			var groups []struct {
				ProxyGroupID string `json:"proxy_groupid"`
				Name         string `json:"name"`
			}
			if err := c.Call(ctx, "proxygroup.get", map[string]any{
				"output": []string{"proxy_groupid", "name"}, "proxy_groupids": groupIDs,
			}, &groups); err != nil {
				return nil, fmt.Errorf("host routes: %w", err)
			}
			for _, g := range groups {
				groupName[g.ProxyGroupID] = g.Name
			}
		}
	}
	out := make([]HostRoute, 0, len(hosts))
	for _, h := range hosts {
		r := HostRoute{Host: h.Host}
		switch h.MonitoredBy {
		case 1:
			if p, ok := byID[h.ProxyID]; ok {
				r.Proxy = p.Name
				r.Proxies = []ProxyInfo{p}
			}
		case 2:
			r.ProxyGroup = groupName[h.ProxyGroupID]
			if r.ProxyGroup == "" {
				r.ProxyGroup = "#" + h.ProxyGroupID
			}
			r.Proxies = byGroup[h.ProxyGroupID]
		}
		out = append(out, r)
	}
	return out, nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(int64(x))
	}
	return ""
}

// joinAddr joins host and port, "" when host is empty; a port given as a user macro is left
// out (the sender's default port then applies).
func joinAddr(host, port string) string {
	host = strings.TrimSpace(host)
	if host == "" {
		return ""
	}
	if port == "" || strings.HasPrefix(port, "{$") {
		return host
	}
	return net.JoinHostPort(host, port)
}
