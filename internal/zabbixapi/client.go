// Package zabbixapi is a small JSON-RPC client for the Zabbix API, versions
// 6.0 to 7.x. It chooses how to send credentials from the server's version
// (the "auth" request member before 6.4, an Authorization header from 6.4
// on), logs in with a user name and password or uses an API token, and never
// puts a secret in an error text.
package zabbixapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one API request when Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// maxResponse caps the size of one API reply that the client reads.
const maxResponse = 256 << 20

// Options configure a Client. The zero value talks to the API without
// credentials, which is only enough for Version.
type Options struct {
	// Token is an API token (Zabbix 5.4+). It wins over Username/Password.
	Token string
	// Username and Password are used for user.login when Token is empty.
	Username string
	// Password goes with Username.
	Password string
	// HTTPClient replaces the client's own HTTP client; Timeout and
	// InsecureSkipVerify are then ignored.
	HTTPClient *http.Client
	// InsecureSkipVerify turns off TLS certificate verification. Off by default.
	InsecureSkipVerify bool
	// Timeout bounds each HTTP request; zero means DefaultTimeout.
	Timeout time.Duration
}

// Client calls one Zabbix API endpoint. It is safe for concurrent use.
type Client struct {
	url      string
	http     *http.Client
	token    string
	username string
	password string
	secrets  []string // fixed secrets to redact (token, password, URL password)
	nextID   atomic.Int64

	mu      sync.Mutex
	version *Version
	session string // from user.login
}

// APIError is an error reply of the JSON-RPC API.
type APIError struct {
	// Method is the API method that failed, e.g. "host.create".
	Method string
	// Code is the JSON-RPC error code, e.g. -32602 for invalid parameters.
	Code int
	// Message is the short error message, e.g. "Invalid params.".
	Message string
	// Data is the detailed message, e.g. "Host with the same name ... already exists.".
	Data string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("zabbix api %s: %s %s (code %d)", e.Method, e.Message, e.Data, e.Code)
}

// SessionTerminated reports whether the error says the session or token is no
// longer valid and a new login is needed.
func (e *APIError) SessionTerminated() bool {
	return strings.Contains(e.Data, "re-login") || strings.Contains(e.Data, "Not authorised") ||
		strings.Contains(e.Data, "Not authorized")
}

// New returns a client for the API at rawURL (".../api_jsonrpc.php").
// It does not contact the server.
func New(rawURL string, opts Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("zabbix api url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("zabbix api url %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("zabbix api url %q: no host", u.Redacted())
	}
	if opts.Token == "" && opts.Username == "" && opts.Password != "" {
		return nil, errors.New("zabbix api: password given without user name")
	}
	c := &Client{
		url:      rawURL,
		http:     opts.HTTPClient,
		token:    opts.Token,
		username: opts.Username,
		password: opts.Password,
	}
	for _, s := range []string{opts.Token, opts.Password} {
		if s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
	if p, ok := u.User.Password(); ok && p != "" {
		c.secrets = append(c.secrets, p)
	}
	if c.http == nil {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if opts.InsecureSkipVerify {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by the caller
		}
		c.http = &http.Client{Timeout: timeout, Transport: tr}
	}
	return c, nil
}

// redact replaces every known secret in s.
func (c *Client) redact(s string) string {
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	for _, secret := range append(c.secrets, session) {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// Version returns the API version (apiinfo.version, called without
// credentials). The answer is cached for the life of the client.
func (c *Client) Version(ctx context.Context) (Version, error) {
	c.mu.Lock()
	if c.version != nil {
		v := *c.version
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	var raw string
	if err := c.do(ctx, "apiinfo.version", []any{}, &raw, "", false); err != nil {
		return Version{}, err
	}
	v, err := ParseVersion(raw)
	if err != nil {
		return Version{}, fmt.Errorf("zabbix api apiinfo.version: %w", err)
	}
	c.mu.Lock()
	c.version = &v
	c.mu.Unlock()
	return v, nil
}

// Login logs in with the configured user name and password (user.login) and
// keeps the session for later calls. With a token it only checks the version.
func (c *Client) Login(ctx context.Context) error {
	v, err := c.Version(ctx)
	if err != nil {
		return err
	}
	if c.token != "" {
		return nil
	}
	if c.username == "" {
		return errors.New("zabbix api user.login: no user name or token configured")
	}
	params := map[string]string{"username": c.username, "password": c.password}
	if !v.AtLeast(5, 4) {
		params = map[string]string{"user": c.username, "password": c.password}
	}
	var session string
	if err := c.do(ctx, "user.login", params, &session, "", false); err != nil {
		return err
	}
	if session == "" {
		return errors.New("zabbix api user.login: empty session id")
	}
	c.mu.Lock()
	c.session = session
	c.mu.Unlock()
	return nil
}

// Logout ends the session opened by Login (user.logout). It does nothing for
// token authentication or when no session is open.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	if c.token != "" || session == "" {
		return nil
	}
	v, err := c.Version(ctx)
	if err != nil {
		return err
	}
	var ok bool
	err = c.do(ctx, "user.logout", []any{}, &ok, session, v.AtLeast(6, 4))
	c.mu.Lock()
	if c.session == session {
		c.session = ""
	}
	c.mu.Unlock()
	return err
}

// credential returns the token or session to send, logging in on first use.
func (c *Client) credential(ctx context.Context) (string, error) {
	if c.token != "" {
		return c.token, nil
	}
	if c.username == "" {
		return "", nil
	}
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	if session != "" {
		return session, nil
	}
	if err := c.Login(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session, nil
}

// Call calls an API method with params and decodes its result into result
// (a pointer, or nil to ignore it). JSON-RPC errors come back as *APIError.
// A session that the server ended is renewed once by logging in again.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	switch method {
	case "apiinfo.version", "user.login":
		return c.do(ctx, method, params, result, "", false)
	}
	v, err := c.Version(ctx)
	if err != nil {
		return err
	}
	cred, err := c.credential(ctx)
	if err != nil {
		return err
	}
	err = c.do(ctx, method, params, result, cred, v.AtLeast(6, 4))
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.SessionTerminated() && c.token == "" && c.username != "" {
		c.mu.Lock()
		if c.session == cred {
			c.session = ""
		}
		c.mu.Unlock()
		if cred, err = c.credential(ctx); err != nil {
			return err
		}
		err = c.do(ctx, method, params, result, cred, v.AtLeast(6, 4))
	}
	return err
}

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
	ID      int64  `json:"id"`
	Auth    string `json:"auth,omitempty"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    string `json:"data"`
	} `json:"error"`
	ID json.RawMessage `json:"id"`
}

// do performs one JSON-RPC request. cred is sent in the Authorization
// header when bearer is true, else in the "auth" member.
func (c *Client) do(ctx context.Context, method string, params, result any, cred string, bearer bool) error {
	if params == nil {
		params = map[string]any{}
	}
	req := rpcRequest{JSONRPC: "2.0", Method: method, Params: params, ID: c.nextID.Add(1)}
	if cred != "" && !bearer {
		req.Auth = cred
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("zabbix api %s: encode request: %w", method, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("zabbix api %s: %s", method, c.redact(err.Error()))
	}
	hreq.Header.Set("Content-Type", "application/json-rpc")
	if cred != "" && bearer {
		hreq.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		// The text of a transport error may quote the URL: redact it.
		return fmt.Errorf("zabbix api %s: %s", method, c.redact(err.Error()))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("zabbix api %s: read reply: %s", method, c.redact(err.Error()))
	}
	if len(data) > maxResponse {
		return fmt.Errorf("zabbix api %s: reply larger than %d bytes", method, maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("zabbix api %s: HTTP %d: %s", method, resp.StatusCode, c.redact(snippet(data)))
	}
	var rr rpcResponse
	if err := json.Unmarshal(data, &rr); err != nil {
		return fmt.Errorf("zabbix api %s: reply is not JSON-RPC: %s", method, c.redact(snippet(data)))
	}
	if rr.Error != nil {
		return &APIError{
			Method:  method,
			Code:    rr.Error.Code,
			Message: c.redact(rr.Error.Message),
			Data:    c.redact(rr.Error.Data),
		}
	}
	if string(rr.ID) != fmt.Sprint(req.ID) {
		return fmt.Errorf("zabbix api %s: reply id %s does not match request id %d", method, snippet(rr.ID), req.ID)
	}
	if rr.Result == nil {
		return fmt.Errorf("zabbix api %s: reply has neither result nor error", method)
	}
	if result != nil {
		if err := json.Unmarshal(rr.Result, result); err != nil {
			return fmt.Errorf("zabbix api %s: decode result: %s", method, c.redact(err.Error()))
		}
	}
	return nil
}

// snippet shortens a reply body for an error message.
func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
