package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Caller is the one method of a Zabbix API client this package needs: a JSON-RPC call that
// decodes the result member into result and returns the API's error otherwise. It is meant to
// be a *zabbixapi.Client (which authenticates the way the server's version wants); the unit
// tests use an in-memory fake.
type Caller interface {
	Call(ctx context.Context, method string, params, result any) error
}

// caller is the internal name of Caller.
type caller = Caller

// isNil reports whether c is nil, including a nil pointer stored in the interface (a nil
// *zabbixapi.Client passed as "no API").
func isNil(c Caller) bool {
	if c == nil {
		return true
	}
	v := reflect.ValueOf(c)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// apiVersion is a Zabbix API version reduced to what changes the requests: major and minor.
type apiVersion struct {
	Major, Minor int
	Text         string
}

// parseVersion reads "6.0.14" (or "7.0.0rc1") into its major and minor numbers.
func parseVersion(s string) (apiVersion, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) < 2 {
		return apiVersion{}, fmt.Errorf("unexpected API version %q", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return apiVersion{}, fmt.Errorf("unexpected API version %q", s)
	}
	return apiVersion{Major: major, Minor: minor, Text: strings.TrimSpace(s)}, nil
}

// atLeast reports whether v is major.minor or later.
func (v apiVersion) atLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// String returns the version as the server reported it.
func (v apiVersion) String() string { return v.Text }

// fetchVersion calls apiinfo.version (which takes no authentication; the client knows).
func fetchVersion(ctx context.Context, api caller) (apiVersion, error) {
	var s string
	if err := api.Call(ctx, "apiinfo.version", []any{}, &s); err != nil {
		return apiVersion{}, fmt.Errorf("apiinfo.version: %w", err)
	}
	v, err := parseVersion(s)
	if err != nil {
		return apiVersion{}, fmt.Errorf("apiinfo.version: %w", err)
	}
	if !v.atLeast(6, 0) {
		return apiVersion{}, fmt.Errorf("apiinfo.version: Zabbix %s is too old (6.0 or later is required)", s)
	}
	return v, nil
}

// hostGroupsSelector is the host.get option that returns a host's host groups and the member
// of the result that holds them: selectGroups / groups on 6.0, selectHostGroups / hostgroups
// since 6.2 (7.0 dropped the old name).
func (v apiVersion) hostGroupsSelector() (option, member string) {
	if v.atLeast(6, 2) {
		return "selectHostGroups", "hostgroups"
	}
	return "selectGroups", "groups"
}

// proxyFields names the host.get output fields that tell whether a proxy monitors the host:
// proxy_hostid until 6.4, monitored_by and proxyid since 7.0.
func (v apiVersion) proxyFields() []string {
	if v.atLeast(7, 0) {
		return []string{"monitored_by", "proxyid", "proxy_groupid"}
	}
	return []string{"proxy_hostid"}
}

// flexString decodes a JSON string or number as a string: the API returns ids and counts as
// strings, but a number is accepted too.
type flexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}
