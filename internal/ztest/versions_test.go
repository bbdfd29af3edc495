package ztest

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestServerVars(t *testing.T) {
	got := strings.Join(ServerVersion(t, "7.0").vars(), " ")
	want := "MZ_ZABBIX70_API MZ_ZABBIX70_USER MZ_ZABBIX70_PASSWORD MZ_ZABBIX70_SERVER MZ_ZABBIX70_CONF MZ_ZABBIX70_SENDER MZ_ZABBIX70_ROOT"
	if got != want {
		t.Errorf("7.0 vars = %s, want %s", got, want)
	}
	if got := strings.Join(Servers[0].vars(), " "); strings.Contains(got, "ROOT") || !strings.HasPrefix(got, "MZ_ZABBIX_API ") {
		t.Errorf("6.0 vars = %s", got)
	}
}

func TestFrontendErrors(t *testing.T) {
	for page, want := range map[string]string{
		`<div class="wrapper"><output class="msg-bad" role="contentinfo"><span>Locale for language "en_US" is not found on the web server.</span></output>`: "Locale for language",
		`<div><b>Deprecated</b>: Creation of dynamic property in x.php</div>`:                                                                               "dynamic property",
		`<html><body><div class="dashboard">Users online</div></body></html>`:                                                                               "",
		`<output id="msg-global-footer" class="msg-global-footer msg-warning"></output><footer>Zabbix</footer>`:                                             "",
	} {
		got := FrontendErrors([]byte(page))
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("FrontendErrors(%q) = %s, want it to hold %q", page, got, want)
		}
	}
}

// Every test server answers with its version, takes a configuration cache
// reload (inside its tree for 7.0), listens on its trapper port, and shows
// its pages and graphs without error: the en_US locale is there.
func TestEachZabbix(t *testing.T) {
	EachZabbix(t, func(t *testing.T, e *Env) {
		t.Logf("Zabbix %s at %s, trapper %s", e.Version, e.URL, e.Server)
		e.ReloadConfigCache(t)
		c, err := net.DialTimeout("tcp", e.Server, 10*time.Second)
		if err != nil {
			t.Fatalf("trapper: %v", err)
		}
		c.Close()

		f := e.Frontend(t)
		// The list of dashboards: a page every frontend has, whatever its state.
		page := f.Page(t, "zabbix.php?action=dashboard.list")
		if !strings.Contains(page, ": Dashboards</title>") {
			t.Errorf("dashboard list page: %.300s", page)
		}
		var graphs []struct {
			GraphID string `json:"graphid"`
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.API.Call(ctx, "graph.get", map[string]any{"output": []string{"graphid"}, "templated": true, "limit": 1}, &graphs); err != nil || len(graphs) != 1 {
			t.Fatalf("graph.get: %v (%d graphs)", err, len(graphs))
		}
		img := f.PNG(t, "chart2.php?graphid="+graphs[0].GraphID+"&from=now-1h&to=now&width=600&height=200")
		if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 200 {
			t.Errorf("graph image is %v, want at least 600x200", b)
		}
	})
}
