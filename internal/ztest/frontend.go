package ztest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Frontend is a web session on the test server's frontend (the PHP pages
// beside api_jsonrpc.php), logged in through its sign-in form as a person
// would be.
type Frontend struct {
	// Base is the frontend's URL, ending in "/".
	Base   string
	client *http.Client
}

// Frontend signs in to the server's web frontend with the API user's name
// and password, and fails the test when that does not open a session.
func (e *Env) Frontend(t testing.TB) *Frontend {
	t.Helper()
	base := strings.TrimSuffix(e.URL, "api_jsonrpc.php")
	if base == e.URL || !strings.HasSuffix(base, "/") {
		t.Fatalf("ztest: API URL %s does not end in /api_jsonrpc.php", e.URL)
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	f := &Frontend{Base: base, client: &http.Client{Jar: jar, Timeout: time.Minute}}
	form := url.Values{"name": {e.user}, "password": {e.password}, "enter": {"Sign in"}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"index.php", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("ztest: frontend sign-in: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("ztest: frontend sign-in at %s: %v", base, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A good sign-in redirects to the dashboard; a refused one shows the
	// form again with its error.
	if bytes.Contains(body, []byte(`name="password"`)) || resp.Request.URL.Path == "/index.php" {
		t.Fatalf("ztest: frontend sign-in at %s as %s failed: %s", base, e.user, FrontendErrors(body))
	}
	return f
}

// Get fetches a frontend path (such as "zabbix.php?action=...") in the
// session and returns the response's status, content type and body.
func (f *Frontend) Get(t testing.TB, path string) (status int, contentType string, body []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.Base+path, nil)
	if err != nil {
		t.Fatalf("ztest: frontend %s: %v", path, err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("ztest: frontend %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("ztest: frontend %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// Page fetches an HTML page and fails the test when it is not a 200 page
// or shows an error (see FrontendErrors). It returns the page.
func (f *Frontend) Page(t testing.TB, path string) string {
	t.Helper()
	status, ctype, body := f.Get(t, path)
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
		t.Fatalf("ztest: frontend %s: status %d, %s: %.300s", path, status, ctype, body)
	}
	if errs := FrontendErrors(body); errs != "" {
		t.Errorf("ztest: frontend %s shows errors: %s", path, errs)
	}
	return string(body)
}

// PNG fetches an image (chart2.php, chart.php) and fails the test unless it
// is a PNG that decodes; the frontend answers its errors with an HTML page.
func (f *Frontend) PNG(t testing.TB, path string) image.Image {
	t.Helper()
	status, ctype, body := f.Get(t, path)
	if status != http.StatusOK || ctype != "image/png" {
		t.Fatalf("ztest: frontend %s: status %d, %s, not a PNG: %s", path, status, ctype, FrontendErrors(body))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("ztest: frontend %s: %v", path, err)
	}
	return img
}

// errorMarks are what the frontend's error output looks like: its message
// boxes (class msg-bad, or msg-warning), the missing-locale message and PHP's
// own errors. Empty boxes, such as the footer's placeholder that every page
// has, are removed first (emptyBox).
var errorMarks = regexp.MustCompile(`class="[^"]*\bmsg-(bad|warning)\b|Locale for language|is not found|` +
	`<b>(Fatal error|Warning|Notice|Deprecated)</b>|(Fatal error|Parse error|Uncaught [A-Za-z]+):`)

var emptyBox = regexp.MustCompile(`<output[^>]*>\s*</output>`)

// FrontendErrors returns the error shown on a frontend page, up to a few
// hundred characters of text around the first mark, or "" when it shows
// none.
func FrontendErrors(page []byte) string {
	page = emptyBox.ReplaceAll(page, nil)
	loc := errorMarks.FindIndex(page)
	if loc == nil {
		return ""
	}
	from, to := max(loc[0]-80, 0), min(loc[1]+320, len(page))
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAll(page[from:to], []byte(" "))
	return fmt.Sprintf("%q", strings.Join(strings.Fields(string(text)), " "))
}
