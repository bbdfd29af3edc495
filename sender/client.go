package sender

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults used for zero Options fields.
const (
	// DefaultPort is the Zabbix trapper port, added to servers given without one.
	DefaultPort = "10051"
	// DefaultTimeout bounds one connection attempt (dial, TLS, write, reply).
	DefaultTimeout = 10 * time.Second
	// DefaultBatchSize is the number of values per packet, as zabbix_sender -i.
	DefaultBatchSize = 250
	// DefaultMaxReplySize is the largest reply frame accepted.
	DefaultMaxReplySize = 1 << 20
)

// Options configure a Client. The zero value of every field but Servers is
// usable.
type Options struct {
	// Servers are "host:port" addresses of Zabbix servers or proxies, tried in
	// order for each packet until one answers. A missing port means 10051.
	// After a failover the client keeps using the server that answered.
	Servers []string
	// Timeout bounds each connection attempt, from dialing to reading the
	// reply; the context may shorten it. Zero means DefaultTimeout.
	Timeout time.Duration
	// BatchSize is the number of values per packet; the server closes the
	// connection after each reply, so each packet uses a new connection.
	// Zero means DefaultBatchSize.
	BatchSize int
	// Compress sends zlib-compressed frames (accepted by Zabbix 6.0 servers,
	// which then reply compressed too).
	Compress bool
	// MaxReplySize is the largest reply accepted, in bytes; a reply that
	// announces more is an error and nothing of that size is allocated. Zero
	// means DefaultMaxReplySize.
	MaxReplySize int64
	// TLS, when not nil, wraps each connection in TLS with this configuration
	// (certificate mode; see TLSConfig). An empty ServerName is filled from
	// the server address.
	TLS *tls.Config
	// Dialer, when not nil, replaces net.Dialer for opening connections.
	Dialer func(ctx context.Context, network, address string) (net.Conn, error)
	// StrictUTF8 refuses items whose host, key or value is not valid UTF-8
	// with a *ValueError instead of replacing the invalid bytes by U+FFFD.
	StrictUTF8 bool
	// Logger receives failover and sanitizing notices; nil discards them.
	Logger *slog.Logger
}

// Client sends values to Zabbix. It is safe for concurrent use.
type Client struct {
	servers   []string
	timeout   time.Duration
	batch     int
	compress  bool
	maxReply  int64
	tls       *tls.Config
	dial      func(ctx context.Context, network, address string) (net.Conn, error)
	strict    bool
	log       *slog.Logger
	preferred atomic.Int32 // index of the server that answered last
	// redirected holds the Zabbix 7.0 proxy-group redirects, by host.
	redirected redirects
}

// NewClient checks opts and returns a Client.
func NewClient(opts Options) (*Client, error) {
	if len(opts.Servers) == 0 {
		return nil, errors.New("sender: no server configured")
	}
	c := &Client{
		timeout:  opts.Timeout,
		batch:    opts.BatchSize,
		compress: opts.Compress,
		maxReply: opts.MaxReplySize,
		tls:      opts.TLS,
		dial:     opts.Dialer,
		strict:   opts.StrictUTF8,
		log:      opts.Logger,
	}
	for _, s := range opts.Servers {
		addr, err := normalizeAddr(s)
		if err != nil {
			return nil, fmt.Errorf("sender: server %q: %w", s, err)
		}
		c.servers = append(c.servers, addr)
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.batch <= 0 {
		c.batch = DefaultBatchSize
	}
	if c.maxReply <= 0 {
		c.maxReply = DefaultMaxReplySize
	}
	if c.dial == nil {
		d := &net.Dialer{}
		c.dial = d.DialContext
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// normalizeAddr checks a "host:port" address, adding DefaultPort if needed.
func normalizeAddr(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty address")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port, err = net.SplitHostPort(net.JoinHostPort(s, DefaultPort))
		if err != nil {
			return "", err
		}
	}
	if host == "" || port == "" {
		return "", errors.New("want host:port")
	}
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return "", errors.New("want host:port (IPv6 addresses in brackets)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("bad port %q", port)
	}
	return net.JoinHostPort(host, port), nil
}

// Servers returns the normalized server addresses.
func (c *Client) Servers() []string { return slices.Clone(c.servers) }

// Send sends items in packets of Options.BatchSize and returns the counts
// of all answered packets. The error is nil when every value was processed;
// otherwise it is, or joins (use errors.As):
//   - *ValueError: an item was refused before anything was sent (StrictUTF8);
//   - *RejectedError: the server answered "failed" to a packet (not resent);
//   - *PartialError: the server counted some values as failed (not resent);
//   - *DeliveryError: a packet was answered by no server; Send stops there
//     and the error lists that packet's values and all later ones.
func (c *Client) Send(ctx context.Context, items []Item) (Result, error) {
	var total Result
	if len(items) == 0 {
		return total, nil
	}
	// Every item is checked before anything is sent (a strict refusal sends nothing), but the
	// sanitized copies are made one packet at a time, so memory does not grow with the burst.
	changed := 0
	for _, it := range items {
		ci, err := sanitizeItem(it, c.strict)
		if err != nil {
			return total, err
		}
		if ci != it {
			changed++
		}
	}
	if changed > 0 {
		c.log.Warn("sender: sanitized values (invalid UTF-8 replaced or value truncated)", "items", changed, "limit_bytes", MaxValueBytes)
	}
	var errs []error
	clean := make([]Item, 0, min(c.batch, len(items)))
	for start := 0; start < len(items); start += c.batch {
		end := min(start+c.batch, len(items))
		clean = clean[:0]
		for _, it := range items[start:end] {
			ci, _ := sanitizeItem(it, c.strict)
			clean = append(clean, ci)
		}
		res, server, err := c.sendBatch(ctx, clean)
		var rej *RejectedError
		switch {
		case err == nil:
			total.Add(res)
		case errors.As(err, &rej):
			errs = append(errs, err)
		default:
			errs = append(errs, c.partial(total)...)
			errs = append(errs, &DeliveryError{Server: server, Err: err, Undelivered: slices.Clone(items[start:])})
			return total, errors.Join(errs...)
		}
	}
	errs = append(errs, c.partial(total)...)
	return total, errors.Join(errs...)
}

func (c *Client) partial(total Result) []error {
	if total.Failed > 0 {
		return []error{&PartialError{Result: total}}
	}
	return nil
}

// sendBatch delivers one packet, failing over between servers. It returns
// the server that answered (or was tried last) and a nil error, a
// *RejectedError (answered), or the joined failures of every server tried.
func (c *Client) sendBatch(ctx context.Context, batch []Item) (Result, string, error) {
	data, err := encodeData(batch)
	if err != nil {
		return Result{}, "", err
	}
	if res, server, err, ok := c.viaRedirect(ctx, batch, data); ok {
		return res, server, err
	}
	var fails []error
	first := int(c.preferred.Load())
	last := ""
	for i := range c.servers {
		idx := (first + i) % len(c.servers)
		server := c.servers[idx]
		last = server
		if err := ctx.Err(); err != nil {
			fails = append(fails, fmt.Errorf("%s: %w", server, err))
			break
		}
		res, err := c.exchange(ctx, server, data)
		if rd := (*RedirectError)(nil); errors.As(err, &rd) {
			var to string
			if res, to, err = c.followRedirect(ctx, batch, data, rd); to != "" {
				server = to
			}
		}
		if err == nil {
			c.preferred.Store(int32(idx))
			return res, server, nil
		}
		var rej *RejectedError
		if errors.As(err, &rej) {
			rej.Server = server
			rej.Items = len(batch)
			c.preferred.Store(int32(idx))
			return Result{}, server, rej
		}
		fails = append(fails, fmt.Errorf("%s: %w", server, err))
		if ctx.Err() != nil {
			break
		}
		if i+1 < len(c.servers) {
			c.log.Warn("sender: server did not answer, trying the next one", "server", server, "err", err, "values", len(batch))
		}
	}
	return Result{}, last, errors.Join(fails...)
}

// exchange performs one request/reply on a fresh connection to server.
func (c *Client) exchange(ctx context.Context, server string, data []byte) (res Result, err error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	defer func() {
		if err != nil {
			var rej *RejectedError
			if !errors.As(err, &rej) {
				if cerr := ctx.Err(); cerr != nil {
					err = fmt.Errorf("%w: %w", cerr, err)
				}
			}
		}
	}()
	conn, err := c.dial(actx, "tcp", server)
	if err != nil {
		return Result{}, fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	if dl, ok := actx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return Result{}, fmt.Errorf("set deadline: %w", err)
		}
	}
	// Cancelling the context interrupts any blocked read or write.
	stop := context.AfterFunc(actx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if c.tls != nil {
		cfg := c.tls.Clone()
		if cfg.ServerName == "" {
			host, _, _ := net.SplitHostPort(server)
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(actx); err != nil {
			return Result{}, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	frame, err := EncodeFrame(buildRequest(data, time.Now()), c.compress)
	if err != nil {
		return Result{}, err
	}
	if _, err := conn.Write(frame); err != nil {
		return Result{}, fmt.Errorf("write request (%d bytes): %w", len(frame), err)
	}
	payload, err := ReadFrame(conn, c.maxReply)
	if err != nil {
		return Result{}, fmt.Errorf("reply: %w", err)
	}
	res, err = ParseReply(payload)
	if err != nil {
		return Result{}, fmt.Errorf("reply: %w", err)
	}
	return res, nil
}
