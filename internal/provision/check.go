package provision

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

// CanaryKey is the item Check sends its canary value to: the heartbeat item of the Moodle
// template, an unsigned trapper item whose value is always 1.
const CanaryKey = templates.HeartbeatKey

// DefaultReadBackTimeout bounds how long Check waits for the canary to appear in the history.
const DefaultReadBackTimeout = 30 * time.Second

// CheckInput is what Check tests: a site database, a sender and optionally the Zabbix API.
type CheckInput struct {
	// DB is the Moodle site database.
	DB *sql.DB
	// Dialect is the database's SQL flavour.
	Dialect measures.Dialect
	// Prefix is the Moodle table prefix ("mdl_").
	Prefix string
	// Host is the technical Zabbix host name of the site.
	Host string
	// Sender delivers the canary through the trapper.
	Sender *sender.Client
	// API, when not nil, checks the host and its items and reads the canary back (a
	// *zabbixapi.Client).
	API Caller
	// Now is the clock of the canary; nil means time.Now.
	Now func() time.Time
	// ReadBackTimeout bounds the wait for the canary in the history; zero means
	// DefaultReadBackTimeout.
	ReadBackTimeout time.Duration
	// PollInterval is the pause between history reads; zero means 500 ms.
	PollInterval time.Duration
}

// CheckError is the error Check returns: the first step that failed and why.
type CheckError struct {
	// Step names the failing step: "database", "trapper", "host", "canary" or "read-back".
	Step string
	// Err is the cause.
	Err error
}

// Error names the step and the cause.
func (e *CheckError) Error() string { return "check " + e.Step + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *CheckError) Unwrap() error { return e.Err }

// checker carries the state of one Check run.
type checker struct {
	in  CheckInput
	w   io.Writer
	api caller
	ver apiVersion
	// itemID and valueType identify the canary item once the API found it.
	itemID    string
	valueType string
	// viaProxy holds the proxy id when a proxy monitors the host.
	viaProxy string
	// canaryClock and canaryNS stamp the canary once it was processed.
	canaryClock, canaryNS int64
}

// Check proves the wiring of one site, printing one line per step to w ("ok   ...",
// "warn ...", "skip ...", "FAIL ..."):
//
//  1. database: the database answers and is a Moodle site (version and release from {config});
//  2. trapper: a Zabbix server or proxy answers the sender protocol;
//  3. host (with the API only): the host exists, is monitored, has moodle.* items and a
//     trapper heartbeat item; a proxy is a warning;
//  4. canary: CanaryKey = 1 stamped now is processed by the trapper;
//  5. read-back (with the API only): the canary appears in the item's history.
//
// It stops at the first failure and returns a *CheckError naming that step.
func Check(ctx context.Context, in CheckInput, w io.Writer) error {
	c := &checker{in: in, w: w}
	if !isNil(in.API) {
		c.api = in.API
	}
	if c.in.Now == nil {
		c.in.Now = time.Now
	}
	steps := []struct {
		name string
		run  func(context.Context) (string, error)
	}{
		{"database", c.database},
		{"trapper", c.trapper},
		{"host", c.host},
		{"canary", c.canary},
		{"read-back", c.readBack},
	}
	for _, s := range steps {
		label, err := s.run(ctx)
		if err != nil {
			c.line("FAIL", label, err.Error())
			return &CheckError{Step: s.name, Err: err}
		}
	}
	return nil
}

// line prints one step line; a "warn" or "skip" line is printed by the step itself.
func (c *checker) line(status, label, text string) {
	fmt.Fprintf(c.w, "%-4s %s: %s\n", status, label, text)
}

// database reads the Moodle version and release.
func (c *checker) database(ctx context.Context) (string, error) {
	const label = "database"
	if c.in.DB == nil {
		return label, errors.New("no database configured")
	}
	if err := c.in.DB.PingContext(ctx); err != nil {
		return label, fmt.Errorf("cannot connect: %w", err)
	}
	q, args, err := c.in.Dialect.Expand("SELECT name, value FROM {config} WHERE name IN (?)", c.in.Prefix,
		[]any{[]string{"version", "release"}})
	if err != nil {
		return label, err
	}
	rows, err := c.in.DB.QueryContext(ctx, q, args...)
	if err != nil {
		table := c.in.Prefix + "config"
		if missingTable(err) {
			return label, fmt.Errorf("not a Moodle database (table %s not found)", table)
		}
		return label, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	cfg := map[string]string{}
	for rows.Next() {
		var name string
		var value sql.NullString
		if err := rows.Scan(&name, &value); err != nil {
			return label, fmt.Errorf("read %sconfig: %w", c.in.Prefix, err)
		}
		cfg[name] = value.String
	}
	if err := rows.Err(); err != nil {
		return label, fmt.Errorf("read %sconfig: %w", c.in.Prefix, err)
	}
	if cfg["version"] == "" {
		return label, fmt.Errorf("not a Moodle database (no version in %sconfig)", c.in.Prefix)
	}
	release := cfg["release"]
	if release == "" {
		release = "(no release)"
	}
	c.line("ok", label, fmt.Sprintf("Moodle %s, version %s", release, cfg["version"]))
	return label, nil
}

// missingTable recognizes "no such table" from SQLite, MySQL/MariaDB (error 1146) and
// PostgreSQL (SQLSTATE 42P01) without importing their drivers.
func missingTable(err error) bool {
	var state interface{ SQLState() string }
	if errors.As(err, &state) && state.SQLState() == "42P01" {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "no such table") ||
		strings.Contains(msg, "Error 1146") ||
		strings.Contains(msg, "42P01") ||
		strings.Contains(msg, "doesn't exist") && strings.Contains(msg, "Table")
}

// probeKey is a key no item can have (Zabbix keys cannot contain a space outside brackets):
// the server counts a value for it as failed, which proves that it answered without storing
// anything.
const probeKey = "moodle-zabbix check probe"

// trapper sends one value that cannot be stored: any answer proves the trapper is reachable.
func (c *checker) trapper(ctx context.Context) (string, error) {
	label := "trapper"
	if c.in.Sender == nil {
		return label, errors.New("no sender configured")
	}
	label += " " + strings.Join(c.in.Sender.Servers(), ", ")
	res, err := c.in.Sender.Send(ctx, []sender.Item{{Host: c.in.Host, Key: probeKey, Value: "0"}})
	var partial *sender.PartialError
	var rejected *sender.RejectedError
	switch {
	case err == nil, errors.As(err, &partial):
	case errors.As(err, &rejected):
		// The server answered, so it is reachable, but refused the packet.
		c.line("ok", label, "answered (packet refused: "+rejected.Info+")")
		return label, nil
	default:
		return label, err
	}
	c.line("ok", label, fmt.Sprintf("answered the sender protocol (probe value: %d processed, %d failed, as expected)", res.Processed, res.Failed))
	return label, nil
}

// host checks the host and its items through the API.
func (c *checker) host(ctx context.Context) (string, error) {
	label := "host " + c.in.Host
	if c.api == nil {
		c.line("skip", label, "no Zabbix API configured: host and items not checked")
		return label, nil
	}
	ver, err := fetchVersion(ctx, c.api)
	if err != nil {
		return label, err
	}
	c.ver = ver
	var hosts []map[string]json.RawMessage
	err = c.api.Call(ctx, "host.get", map[string]any{
		"output":                append([]string{"hostid", "host", "status"}, ver.proxyFields()...),
		"filter":                map[string]any{"host": []string{c.in.Host}},
		"selectParentTemplates": []string{"host"},
	}, &hosts)
	if err != nil {
		return label, fmt.Errorf("host.get: %w", err)
	}
	if len(hosts) == 0 {
		return label, errors.New("not found in Zabbix (run install, or check the host name: it must match exactly)")
	}
	var h struct {
		HostID      flexString `json:"hostid"`
		Status      flexString `json:"status"`
		ProxyHostID flexString `json:"proxy_hostid"`
		ProxyID     flexString `json:"proxyid"`
		MonitoredBy flexString `json:"monitored_by"`
		Templates   []struct {
			Host string `json:"host"`
		} `json:"parentTemplates"`
	}
	whole, _ := json.Marshal(hosts[0])
	if err := json.Unmarshal(whole, &h); err != nil {
		return label, fmt.Errorf("host.get: decode: %w", err)
	}
	if h.Status != "0" {
		return label, errors.New("disabled in Zabbix (status \"not monitored\"): the trapper refuses its values")
	}
	var tpls []string
	for _, t := range h.Templates {
		tpls = append(tpls, t.Host)
	}
	var count flexString
	err = c.api.Call(ctx, "item.get", map[string]any{
		"hostids":     []string{string(h.HostID)},
		"search":      map[string]any{"key_": "moodle."},
		"startSearch": true,
		"countOutput": true,
	}, &count)
	if err != nil {
		return label, fmt.Errorf("item.get: %w", err)
	}
	n, _ := strconv.Atoi(string(count))
	if n == 0 {
		return label, fmt.Errorf("no moodle.* items (linked templates: %s): link the Moodle template", listOrNone(tpls))
	}
	var items []struct {
		ItemID    flexString `json:"itemid"`
		Type      flexString `json:"type"`
		Status    flexString `json:"status"`
		ValueType flexString `json:"value_type"`
	}
	err = c.api.Call(ctx, "item.get", map[string]any{
		"output":  []string{"itemid", "type", "status", "value_type"},
		"hostids": []string{string(h.HostID)},
		"filter":  map[string]any{"key_": []string{CanaryKey}},
	}, &items)
	if err != nil {
		return label, fmt.Errorf("item.get: %w", err)
	}
	switch {
	case len(items) == 0:
		return label, fmt.Errorf("item %s missing (%d moodle.* items; linked templates: %s)", CanaryKey, n, listOrNone(tpls))
	case items[0].Type != "2":
		return label, fmt.Errorf("item %s is not a Zabbix trapper item (type %s)", CanaryKey, items[0].Type)
	case items[0].Status != "0":
		return label, fmt.Errorf("item %s is disabled", CanaryKey)
	}
	c.itemID = string(items[0].ItemID)
	c.valueType = string(items[0].ValueType)
	switch {
	case h.ProxyHostID != "" && h.ProxyHostID != "0":
		c.viaProxy = string(h.ProxyHostID)
	case h.MonitoredBy == "1" && h.ProxyID != "" && h.ProxyID != "0":
		c.viaProxy = string(h.ProxyID)
	case h.MonitoredBy == "2":
		c.viaProxy = "group"
	}
	if c.viaProxy != "" {
		c.line("warn", label, fmt.Sprintf("monitored by proxy %s: send the values to that proxy, not to the server", c.viaProxy))
	}
	c.line("ok", label, fmt.Sprintf("monitored, %d moodle.* items, templates %s", n, listOrNone(tpls)))
	return label, nil
}

// canary sends CanaryKey = 1 stamped now and requires it to be processed.
func (c *checker) canary(ctx context.Context) (string, error) {
	label := "canary " + CanaryKey
	now := c.in.Now()
	item := sender.Item{Host: c.in.Host, Key: CanaryKey, Value: "1", Clock: now.Unix(), NS: int64(now.Nanosecond())}
	res, err := c.in.Sender.Send(ctx, []sender.Item{item})
	var partial *sender.PartialError
	switch {
	case errors.As(err, &partial):
		return label, fmt.Errorf("refused by the server (%s): %s", res, c.refusalCauses())
	case err != nil:
		return label, err
	case res.Processed != 1:
		return label, fmt.Errorf("unexpected answer (%s)", res)
	}
	c.line("ok", label, fmt.Sprintf("processed (clock %d)", item.Clock))
	c.canaryClock = item.Clock
	c.canaryNS = item.NS
	return label, nil
}

// refusalCauses explains a refused canary with what the API told, or every usual cause
// without it.
func (c *checker) refusalCauses() string {
	cache := "the server's configuration cache does not know the host or item yet (it refreshes every " +
		"CacheUpdateFrequency seconds, 60 by default; `zabbix_server -R config_cache_reload` forces it)"
	if c.itemID == "" {
		return "the host is unknown to Zabbix, or item " + CanaryKey + " is missing, disabled or not a trapper item, or " + cache
	}
	if c.viaProxy != "" {
		return "the host is monitored by a proxy, which must receive its values; or " + cache
	}
	return "host and item look right in the API, so " + cache
}

// readBack polls the history until the canary's clock appears.
func (c *checker) readBack(ctx context.Context) (string, error) {
	label := "read-back"
	if c.api == nil {
		c.line("skip", label, "no Zabbix API configured: the canary was not read back from the history")
		return label, nil
	}
	timeout := c.in.ReadBackTimeout
	if timeout <= 0 {
		timeout = DefaultReadBackTimeout
	}
	interval := c.in.PollInterval
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	history, err := strconv.Atoi(c.valueType)
	if err != nil {
		history = 3
	}
	start := time.Now()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		var rows []struct {
			Clock flexString `json:"clock"`
			NS    flexString `json:"ns"`
		}
		err := c.api.Call(ctx, "history.get", map[string]any{
			"history":   history,
			"itemids":   []string{c.itemID},
			"time_from": c.canaryClock,
			"time_till": c.canaryClock,
			"output":    []string{"clock", "ns"},
		}, &rows)
		if err != nil {
			return label, fmt.Errorf("history.get: %w", err)
		}
		for _, r := range rows {
			if string(r.Clock) == strconv.FormatInt(c.canaryClock, 10) && string(r.NS) == strconv.FormatInt(c.canaryNS, 10) {
				c.line("ok", label, fmt.Sprintf("canary stored in the history after %s", time.Since(start).Round(10*time.Millisecond)))
				return label, nil
			}
		}
		select {
		case <-ctx.Done():
			return label, ctx.Err()
		case <-deadline.C:
			return label, fmt.Errorf("canary not in the history after %s%s", timeout, c.itemTrouble(ctx))
		case <-time.After(interval):
		}
	}
}

// itemTrouble tells why a processed value may not have been stored, when the item says so.
func (c *checker) itemTrouble(ctx context.Context) string {
	var items []struct {
		State flexString `json:"state"`
		Error string     `json:"error"`
	}
	err := c.api.Call(ctx, "item.get", map[string]any{
		"output":  []string{"state", "error"},
		"itemids": []string{c.itemID},
	}, &items)
	if err != nil || len(items) == 0 {
		return " (the history syncer may be late or the value a duplicate)"
	}
	if items[0].State == "1" {
		return fmt.Sprintf(" (item %s is not supported: %s)", CanaryKey, items[0].Error)
	}
	return " (the history syncer may be late; the item reports no error)"
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
