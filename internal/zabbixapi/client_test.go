package zabbixapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// rpcErr is an error that the fake server answers with.
type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

// call is one request as the fake server saw it.
type call struct {
	Method   string
	BodyAuth string // the "auth" member
	Bearer   string // from the Authorization header
	Params   json.RawMessage
}

// fakeZabbix is a JSON-RPC server that checks credentials the way the
// Zabbix version it plays does.
type fakeZabbix struct {
	t        *testing.T
	version  Version
	password string
	token    string // a valid API token, if any
	handlers map[string]func(params json.RawMessage) (any, *rpcErr)

	mu       sync.Mutex
	calls    []call
	sessions map[string]bool
	logins   int
	srv      *httptest.Server
}

func newFake(t *testing.T, version string) *fakeZabbix {
	t.Helper()
	v, err := ParseVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeZabbix{
		t: t, version: v, password: "s3cret-pass", sessions: map[string]bool{},
		handlers: map[string]func(json.RawMessage) (any, *rpcErr){},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeZabbix) url() string { return f.srv.URL + "/api_jsonrpc.php" }

func (f *fakeZabbix) recorded() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeZabbix) serve(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json-rpc" && ct != "application/json" {
		http.Error(w, "Zabbix API only works with application/json-rpc", http.StatusPreconditionFailed)
		return
	}
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
		ID      json.RawMessage `json:"id"`
		Auth    *string         `json:"auth"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("fake: bad request body: %v", err)
		return
	}
	c := call{Method: req.Method, Params: req.Params, Bearer: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}
	if req.Auth != nil {
		c.BodyAuth = *req.Auth
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()

	result, rerr := f.dispatch(c)
	resp := map[string]any{"jsonrpc": "2.0", "id": req.ID}
	if rerr != nil {
		resp["error"] = rerr
	} else {
		resp["result"] = result
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (f *fakeZabbix) dispatch(c call) (any, *rpcErr) {
	sawCredential := c.BodyAuth != "" || c.Bearer != ""
	switch c.Method {
	case "apiinfo.version":
		if sawCredential {
			return nil, &rpcErr{-32602, "Invalid params.", `The "apiinfo.version" method must be called without the "auth" parameter.`}
		}
		return f.version.Raw, nil
	case "user.login":
		var p map[string]string
		_ = json.Unmarshal(c.Params, &p)
		if p["username"] != "Admin" || p["password"] != f.password {
			// Deliberately echo the password: the client must redact it.
			return nil, &rpcErr{-32500, "Application error.", "Incorrect user name or password (" + p["password"] + ")."}
		}
		f.mu.Lock()
		f.logins++
		session := fmt.Sprintf("session-%04d-abcdef", f.logins)
		f.sessions[session] = true
		f.mu.Unlock()
		return session, nil
	}
	// Everything else needs a credential, sent the way the version wants.
	if c.BodyAuth != "" && f.version.AtLeast(7, 0) {
		return nil, &rpcErr{-32602, "Invalid params.", `Invalid parameter "/": unexpected parameter "auth".`}
	}
	cred := c.BodyAuth
	if f.version.AtLeast(6, 4) && c.Bearer != "" {
		cred = c.Bearer
	}
	f.mu.Lock()
	valid := cred != "" && (f.sessions[cred] || cred == f.token)
	f.mu.Unlock()
	if !valid {
		return nil, &rpcErr{-32602, "Invalid params.", "Session terminated, re-login, please."}
	}
	if c.Method == "user.logout" {
		f.mu.Lock()
		delete(f.sessions, cred)
		f.mu.Unlock()
		return true, nil
	}
	h, ok := f.handlers[c.Method]
	if !ok {
		return nil, &rpcErr{-32601, "Method not found.", "Incorrect API \"" + c.Method + "\"."}
	}
	return h(c.Params)
}

func TestAuthStyleFollowsVersion(t *testing.T) {
	tests := []struct {
		version    string
		bearer     bool
		groupParam string // how host.get asks for groups
		groupField string // where the reply puts them
	}{
		{"6.0.14", false, "selectGroups", "groups"},
		{"6.2.9", false, "selectHostGroups", "hostgroups"},
		{"6.4.0", true, "selectHostGroups", "hostgroups"},
		{"7.0.5", true, "selectHostGroups", "hostgroups"},
		{"7.2.0alpha1", true, "selectHostGroups", "hostgroups"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			f := newFake(t, tt.version)
			f.handlers["host.get"] = func(p json.RawMessage) (any, *rpcErr) {
				var params map[string]any
				_ = json.Unmarshal(p, &params)
				if _, ok := params[tt.groupParam]; !ok {
					return nil, &rpcErr{-32602, "Invalid params.", "missing " + tt.groupParam}
				}
				return []map[string]any{{
					"hostid": "10500", "host": "moodle-a", "name": "Moodle A", "status": "0",
					tt.groupField: []map[string]string{{"groupid": "22", "name": "Moodle sites"}},
				}}, nil
			}
			c, err := New(f.url(), Options{Username: "Admin", Password: f.password})
			if err != nil {
				t.Fatal(err)
			}
			hosts, err := c.HostGet(context.Background(), "moodle-a")
			if err != nil {
				t.Fatal(err)
			}
			want := []HostGroup{{GroupID: "22", Name: "Moodle sites"}}
			if len(hosts) != 1 || !reflect.DeepEqual(hosts[0].Groups, want) || hosts[0].HostID != "10500" {
				t.Fatalf("hosts = %+v", hosts)
			}
			calls := f.recorded()
			var methods []string
			for _, c := range calls {
				methods = append(methods, c.Method)
			}
			if got := strings.Join(methods, ","); got != "apiinfo.version,user.login,host.get" {
				t.Fatalf("calls = %s", got)
			}
			for _, c := range calls[:2] {
				if c.BodyAuth != "" || c.Bearer != "" {
					t.Errorf("%s sent a credential: %+v", c.Method, c)
				}
			}
			hostGet := calls[2]
			if tt.bearer && (hostGet.Bearer == "" || hostGet.BodyAuth != "") {
				t.Errorf("want Authorization header only, got %+v", hostGet)
			}
			if !tt.bearer && (hostGet.BodyAuth == "" || hostGet.Bearer != "") {
				t.Errorf("want auth member only, got %+v", hostGet)
			}
		})
	}
}

func TestTokenNeedsNoLogin(t *testing.T) {
	for _, version := range []string{"6.0.14", "7.0.5"} {
		t.Run(version, func(t *testing.T) {
			f := newFake(t, version)
			f.token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			f.handlers["template.get"] = func(json.RawMessage) (any, *rpcErr) {
				return []map[string]string{{"templateid": "10001", "host": "Moodle by Zabbix trapper", "name": "Moodle"}}, nil
			}
			c, err := New(f.url(), Options{Token: f.token})
			if err != nil {
				t.Fatal(err)
			}
			ts, err := c.TemplateGet(context.Background(), "Moodle by Zabbix trapper")
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != 1 || ts[0].TemplateID != "10001" {
				t.Fatalf("templates = %+v", ts)
			}
			for _, c := range f.recorded() {
				if c.Method == "user.login" {
					t.Fatal("user.login called with a token")
				}
			}
			if err := c.Logout(context.Background()); err != nil {
				t.Fatalf("Logout with a token: %v", err)
			}
		})
	}
}

func TestAPIErrorMapping(t *testing.T) {
	f := newFake(t, "6.0.14")
	f.handlers["host.create"] = func(json.RawMessage) (any, *rpcErr) {
		return nil, &rpcErr{-32602, "Invalid params.", `Host with the same name "moodle-a" already exists.`}
	}
	c, err := New(f.url(), Options{Username: "Admin", Password: f.password})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.HostCreate(context.Background(), Host{Host: "moodle-a", Groups: []HostGroup{{GroupID: "2"}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	want := APIError{Method: "host.create", Code: -32602, Message: "Invalid params.", Data: `Host with the same name "moodle-a" already exists.`}
	if *apiErr != want {
		t.Fatalf("APIError = %+v, want %+v", *apiErr, want)
	}
	for _, part := range []string{"moodle-a", "host.create", "already exists", "-32602"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
	// Unknown methods map too.
	err = c.Call(context.Background(), "nosuch.method", nil, nil)
	if !errors.As(err, &apiErr) || apiErr.Code != -32601 {
		t.Fatalf("unknown method: %v", err)
	}
}

func TestHostCreateSendsIDsOnly(t *testing.T) {
	f := newFake(t, "6.0.14")
	var got map[string]any
	f.handlers["host.create"] = func(p json.RawMessage) (any, *rpcErr) {
		_ = json.Unmarshal(p, &got)
		return map[string][]string{"hostids": {"10600"}}, nil
	}
	c, err := New(f.url(), Options{Username: "Admin", Password: f.password})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.HostCreate(context.Background(), Host{
		Host:      "moodle-a",
		Groups:    []HostGroup{{GroupID: "2", Name: "ignored"}},
		Templates: []Template{{TemplateID: "7", Host: "ignored"}},
		Tags:      []Tag{{Tag: "service", Value: "moodle"}},
	})
	if err != nil || id != "10600" {
		t.Fatalf("HostCreate = %q, %v", id, err)
	}
	want := map[string]any{
		"host":      "moodle-a",
		"groups":    []any{map[string]any{"groupid": "2"}},
		"templates": []any{map[string]any{"templateid": "7"}},
		"tags":      []any{map[string]any{"tag": "service", "value": "moodle"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("host.create params = %v, want %v", got, want)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const token = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	const password = "pw-Very-Secret-42"
	tests := []struct {
		name  string
		opts  Options
		reply func(w http.ResponseWriter, body string)
	}{
		{"api error echoes token", Options{Token: token}, func(w http.ResponseWriter, body string) {
			writeReply(w, body, `"error":{"code":-32602,"message":"Invalid params.","data":"bad auth `+token+`"}`)
		}},
		{"login error echoes password", Options{Username: "Admin", Password: password}, func(w http.ResponseWriter, body string) {
			writeReply(w, body, `"error":{"code":-32500,"message":"Application error.","data":"password `+password+` is wrong"}`)
		}},
		{"http error body echoes request", Options{Token: token}, func(w http.ResponseWriter, body string) {
			http.Error(w, "proxy refused: "+body, http.StatusBadGateway)
		}},
		{"non-JSON reply echoes request", Options{Token: token}, func(w http.ResponseWriter, body string) {
			_, _ = w.Write([]byte("<html>oops " + body + "</html>"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, _ := io.ReadAll(r.Body)
				body := string(raw)
				if strings.Contains(body, "apiinfo.version") {
					writeReply(w, body, `"result":"6.0.14"`)
					return
				}
				tt.reply(w, body)
			}))
			defer srv.Close()
			c, err := New(srv.URL, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Call(context.Background(), "host.get", map[string]any{"output": "extend"}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, secret := range []string{token, password} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error text contains a secret: %v", err)
				}
			}
			var apiErr *APIError
			if errors.As(err, &apiErr) && (strings.Contains(apiErr.Data, token) || strings.Contains(apiErr.Data, password)) {
				t.Fatalf("APIError.Data contains a secret: %q", apiErr.Data)
			}
		})
	}
}

// writeReply answers a JSON-RPC request body with the given members.
func writeReply(w http.ResponseWriter, reqBody, members string) {
	var req struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal([]byte(reqBody), &req)
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0",%s,"id":%s}`, members, req.ID)
}

func TestExpiredSessionLogsInAgain(t *testing.T) {
	f := newFake(t, "6.0.14")
	f.handlers["hostgroup.get"] = func(json.RawMessage) (any, *rpcErr) {
		return []map[string]string{{"groupid": "5", "name": "Moodle sites"}}, nil
	}
	c, err := New(f.url(), Options{Username: "Admin", Password: f.password})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.HostGroupGet(ctx, "Moodle sites"); err != nil {
		t.Fatal(err)
	}
	// The server forgets every session.
	f.mu.Lock()
	f.sessions = map[string]bool{}
	f.mu.Unlock()
	groups, err := c.HostGroupGet(ctx, "Moodle sites")
	if err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if len(groups) != 1 || groups[0].GroupID != "5" {
		t.Fatalf("groups = %+v", groups)
	}
	if f.logins != 2 {
		t.Fatalf("logins = %d, want 2", f.logins)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	left := len(f.sessions)
	f.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d sessions left after Logout", left)
	}
}

func TestHostGroupGetOrCreate(t *testing.T) {
	f := newFake(t, "6.0.14")
	var mu sync.Mutex
	groups := map[string]string{"Existing": "10"}
	next := 20
	f.handlers["hostgroup.get"] = func(p json.RawMessage) (any, *rpcErr) {
		var params struct {
			Filter struct {
				Name []string `json:"name"`
			} `json:"filter"`
		}
		_ = json.Unmarshal(p, &params)
		mu.Lock()
		defer mu.Unlock()
		var out []HostGroup
		for _, n := range params.Filter.Name {
			if id, ok := groups[n]; ok {
				out = append(out, HostGroup{GroupID: id, Name: n})
			}
		}
		return out, nil
	}
	f.handlers["hostgroup.create"] = func(p json.RawMessage) (any, *rpcErr) {
		var params struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(p, &params)
		mu.Lock()
		defer mu.Unlock()
		if params.Name == "Racy" {
			// Someone else created it between our get and create.
			groups["Racy"] = "99"
			return nil, &rpcErr{-32602, "Invalid params.", `Host group "Racy" already exists.`}
		}
		next++
		groups[params.Name] = fmt.Sprint(next)
		return map[string][]string{"groupids": {fmt.Sprint(next)}}, nil
	}
	c, err := New(f.url(), Options{Username: "Admin", Password: f.password})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.HostGroupGetOrCreate(context.Background(), "New", "Existing", "Racy")
	if err != nil {
		t.Fatal(err)
	}
	want := []HostGroup{{"21", "New"}, {"10", "Existing"}, {"99", "Racy"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestHistoryGet(t *testing.T) {
	f := newFake(t, "6.0.14")
	var params map[string]any
	f.handlers["history.get"] = func(p json.RawMessage) (any, *rpcErr) {
		_ = json.Unmarshal(p, &params)
		return []map[string]string{
			{"itemid": "7", "clock": "1700000010", "ns": "5", "value": "3"},
			{"itemid": "7", "clock": "1700000000", "ns": "9", "value": "1"},
			{"itemid": "7", "clock": "1700000010", "ns": "1", "value": "2"},
		}, nil
	}
	c, err := New(f.url(), Options{Username: "Admin", Password: f.password})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Unix(1699999000, 0)
	values, err := c.HistoryGet(context.Background(), []string{"7"}, ValueUnsigned, from, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range values {
		got = append(got, v.Value)
	}
	if strings.Join(got, ",") != "1,2,3" {
		t.Fatalf("values not in time order: %+v", values)
	}
	if !values[0].Time().Equal(time.Unix(1700000000, 9)) {
		t.Fatalf("time = %v", values[0].Time())
	}
	if params["history"] != float64(3) || params["time_from"] != float64(1699999000) {
		t.Fatalf("params = %v", params)
	}
	if _, ok := params["time_till"]; ok {
		t.Fatalf("time_till sent for a zero time: %v", params)
	}
}

func TestImportRules(t *testing.T) {
	tests := []struct {
		version string
		has     []string
		hasNot  []string
	}{
		{"6.0.14", []string{"groups", "templates", "items", "discoveryRules", "triggers", "graphs", "valueMaps", "templateDashboards", "httptests"}, []string{"template_groups", "host_groups"}},
		{"6.2.0", []string{"template_groups", "host_groups", "templates"}, []string{"groups"}},
		{"7.0.5", []string{"template_groups", "host_groups", "templates"}, []string{"groups"}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			v, err := ParseVersion(tt.version)
			if err != nil {
				t.Fatal(err)
			}
			for _, del := range []bool{false, true} {
				rules := ImportRules(v, ImportOptions{DeleteMissing: del})
				for _, k := range tt.has {
					if _, ok := rules[k]; !ok {
						t.Errorf("rules lack %q", k)
					}
				}
				for _, k := range tt.hasNot {
					if _, ok := rules[k]; ok {
						t.Errorf("rules have %q", k)
					}
				}
				items := rules["items"].(map[string]bool)
				if items["deleteMissing"] != del || !items["createMissing"] || !items["updateExisting"] {
					t.Errorf("items rule = %v with DeleteMissing %v", items, del)
				}
			}
		})
	}
}

func TestImportCompare(t *testing.T) {
	f := newFake(t, "6.0.14")
	reply := any([]any{})
	f.handlers["configuration.importcompare"] = func(json.RawMessage) (any, *rpcErr) { return reply, nil }
	f.handlers["configuration.import"] = func(p json.RawMessage) (any, *rpcErr) {
		var params struct {
			Format string         `json:"format"`
			Rules  map[string]any `json:"rules"`
		}
		_ = json.Unmarshal(p, &params)
		if params.Format != "yaml" || params.Rules["groups"] == nil {
			return nil, &rpcErr{-32602, "Invalid params.", "bad rules"}
		}
		return true, nil
	}
	c, err := New(f.url(), Options{Username: "Admin", Password: f.password})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rules, err := c.ImportRules(ctx, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.ConfigurationImportCompare(ctx, "yaml", "zabbix_export: {}", rules)
	if err != nil || !ch.Empty() {
		t.Fatalf("empty compare = %v, %v", ch, err)
	}
	reply = map[string]any{"templates": map[string]any{"added": []any{map[string]string{"template": "T"}}}}
	ch, err = c.ConfigurationImportCompare(ctx, "yaml", "zabbix_export: {}", rules)
	if err != nil || ch.Empty() || ch["templates"] == nil {
		t.Fatalf("compare = %v, %v", ch, err)
	}
	if err := c.ConfigurationImport(ctx, "yaml", "zabbix_export: {}", rules); err != nil {
		t.Fatal(err)
	}
}

func TestTransportFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"status", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "nope", http.StatusPreconditionFailed)
		}, "HTTP 412"},
		{"id mismatch", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","result":"6.0.14","id":999999}`))
		}, "does not match"},
		{"no result", func(w http.ResponseWriter, r *http.Request) {
			writeReply(w, `{"id":1}`, `"x":1`)
		}, "neither result nor error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c, err := New(srv.URL, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Version(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	tests := []struct {
		url  string
		opts Options
	}{
		{"ftp://x/api_jsonrpc.php", Options{}},
		{"http:///api_jsonrpc.php", Options{}},
		{"http://x/api_jsonrpc.php", Options{Password: "p"}},
	}
	for _, tt := range tests {
		if _, err := New(tt.url, tt.opts); err == nil {
			t.Errorf("New(%q, %+v) = nil error", tt.url, tt.opts)
		}
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    [3]int
		wantErr bool
	}{
		{"6.0.14", [3]int{6, 0, 14}, false},
		{"7.2.0alpha1", [3]int{7, 2, 0}, false},
		{"6.4", [3]int{6, 4, 0}, false},
		{"6", [3]int{}, true},
		{"x.1.2", [3]int{}, true},
		{"", [3]int{}, true},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseVersion(%q) error = %v", tt.in, err)
			continue
		}
		if got := [3]int{v.Major, v.Minor, v.Patch}; !tt.wantErr && got != tt.want {
			t.Errorf("ParseVersion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	v, _ := ParseVersion("6.4.1")
	if !v.AtLeast(6, 4) || !v.AtLeast(5, 9) || v.AtLeast(6, 5) || v.AtLeast(7, 0) {
		t.Errorf("AtLeast wrong for %v", v)
	}
}

func TestIntAndValueTypeDecode(t *testing.T) {
	tests := []struct {
		in      string
		want    Int
		wantErr bool
	}{
		{`"42"`, 42, false},
		{`42`, 42, false},
		{`null`, 0, false},
		{`""`, 0, false},
		{`"-3"`, -3, false},
		{`"x"`, 0, true},
	}
	for _, tt := range tests {
		var n Int
		err := json.Unmarshal([]byte(tt.in), &n)
		if (err != nil) != tt.wantErr || n != tt.want {
			t.Errorf("Int %s = %d, %v", tt.in, n, err)
		}
	}
	var it Item
	if err := json.Unmarshal([]byte(`{"value_type":"4","lastclock":"17"}`), &it); err != nil || it.ValueType != ValueText || it.LastClock != 17 {
		t.Fatalf("item = %+v, %v", it, err)
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"6.0.14", "7.2.0alpha1", "6.4", "", "1.2.3.4", "-1.0", "6.0.99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if v.Major < 0 || v.Minor < 0 || v.Patch < 0 || v.String() != s {
			t.Fatalf("ParseVersion(%q) = %+v", s, v)
		}
		again, err := ParseVersion(fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch))
		if err != nil || again.Major != v.Major || again.Minor != v.Minor || again.Patch != v.Patch {
			t.Fatalf("round trip of %+v = %+v, %v", v, again, err)
		}
		if !v.AtLeast(v.Major, v.Minor) || v.AtLeast(v.Major, v.Minor+1) {
			t.Fatalf("AtLeast inconsistent for %+v", v)
		}
	})
}
