package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// RedirectError is a Zabbix 7.0 answer that the host's values belong elsewhere: a server or
// proxy that receives values for a host monitored by a proxy group answers "failed" with a
// redirect member, {"revision":N,"address":"host[:port]"} naming the proxy that now monitors
// the host, or {"reset":true} when a proxy no longer monitors it (the sender should go back to
// its configured servers). Client follows it by itself; the error escapes only when the
// redirect could not be followed.
type RedirectError struct {
	// Address is where to send, host:port (10051 when the answer gives no port).
	Address string
	// Revision orders the redirects of one host group; a newer one has a higher revision.
	Revision uint64
	// Reset asks the sender to use its configured servers again.
	Reset bool
}

// Error describes the redirect.
func (e *RedirectError) Error() string {
	if e.Reset {
		return "sender: redirect reset: the host is no longer monitored here"
	}
	return fmt.Sprintf("sender: redirected to %s (revision %d)", e.Address, e.Revision)
}

// parseRedirect returns the redirect of a "failed" reply, nil when it has none.
func parseRedirect(payload []byte) *RedirectError {
	var reply struct {
		Redirect *struct {
			Revision json.RawMessage `json:"revision"`
			Address  string          `json:"address"`
			Reset    bool            `json:"reset"`
		} `json:"redirect"`
	}
	if json.Unmarshal(payload, &reply) != nil || reply.Redirect == nil {
		return nil
	}
	r := reply.Redirect
	if r.Reset {
		return &RedirectError{Reset: true}
	}
	rev, err := strconv.ParseUint(string(trimQuotes(r.Revision)), 10, 64)
	if err != nil {
		return nil
	}
	addr, err := normalizeAddr(r.Address)
	if err != nil {
		return nil
	}
	return &RedirectError{Address: addr, Revision: rev}
}

func trimQuotes(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// redirects remembers, per host, where its values were redirected, so that the next packets
// go there first.
type redirects struct {
	mu sync.Mutex
	m  map[string]*RedirectError
}

func (r *redirects) get(host string) *RedirectError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[host]
}

func (r *redirects) set(host string, rd *RedirectError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*RedirectError{}
	}
	if old := r.m[host]; old != nil && old.Revision > rd.Revision {
		return // an older redirect does not replace a newer one
	}
	r.m[host] = rd
}

func (r *redirects) forget(host string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, host)
}

// viaRedirect sends a packet to where its host was last redirected. ok is false when there is
// no such redirect or it no longer holds (reset, a new redirect, no answer): the caller then
// sends to the configured servers, which redirect again if needed.
func (c *Client) viaRedirect(ctx context.Context, batch []Item, data []byte) (res Result, server string, err error, ok bool) {
	rd := c.redirected.get(batch[0].Host)
	if rd == nil {
		return Result{}, "", nil, false
	}
	res, err = c.exchange(ctx, rd.Address, data)
	var rej *RejectedError
	var again *RedirectError
	switch {
	case err == nil:
		return res, rd.Address, nil, true
	case errors.As(err, &again):
		c.redirected.forget(batch[0].Host)
		if !again.Reset {
			c.redirected.set(batch[0].Host, again)
		}
	case errors.As(err, &rej):
		rej.Server, rej.Items = rd.Address, len(batch)
		return Result{}, rd.Address, rej, true
	default:
		c.log.Warn("sender: the proxy a host was redirected to did not answer; back to the servers", "server", rd.Address, "err", err)
		c.redirected.forget(batch[0].Host)
	}
	return Result{}, "", nil, false
}

// followRedirect sends a packet once more to the address a server redirected it to, and
// remembers the redirect for the packet's host. A second redirect in a row is an error, as in
// Zabbix's own sender.
func (c *Client) followRedirect(ctx context.Context, batch []Item, data []byte, rd *RedirectError) (Result, string, error) {
	if rd.Reset {
		c.redirected.forget(batch[0].Host)
		return Result{}, "", rd
	}
	c.redirected.set(batch[0].Host, rd)
	res, err := c.exchange(ctx, rd.Address, data)
	var again *RedirectError
	if errors.As(err, &again) {
		c.redirected.forget(batch[0].Host)
		return Result{}, rd.Address, fmt.Errorf("%s: sequential redirect answers: %w", rd.Address, again)
	}
	if err != nil {
		c.redirected.forget(batch[0].Host)
	}
	return res, rd.Address, err
}
