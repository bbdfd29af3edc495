// Package sendertest runs a real Zabbix trapper endpoint on 127.0.0.1 for
// tests, in the spirit of net/http/httptest. A Server accepts TCP (or TLS)
// connections, decodes one frame per connection (plain or zlib, standard or
// large header), parses the "sender data" request, records the values, and
// answers with a reply chosen by a Handler: by default "success" with every
// value processed, or scripted failures, rejections, silence, delays, garbage
// and oversized frames.
package sendertest

import (
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// Request is one decoded request as the server received it.
type Request struct {
	// Request is the request member, normally "sender data".
	Request string
	// Data holds the values in the order received. Values without a clock
	// have Clock 0.
	Data []sender.Item
	// Clock and NS are the request's own timestamp.
	Clock, NS int64
	// Flags is the frame's flags byte.
	Flags byte
	// Payload is the decoded JSON payload.
	Payload []byte
	// RemoteAddr is the client's address.
	RemoteAddr string
	// Seq numbers requests from 1 in the order they were decoded.
	Seq int
}

// Compressed reports whether the request frame was zlib-compressed.
func (r Request) Compressed() bool { return r.Flags&sender.FlagZlib != 0 }

// Reply scripts the server's answer to one request. The zero Reply answers
// "success" with every value processed.
type Reply struct {
	// Failed is the number of values reported failed; the others are
	// reported processed.
	Failed int
	// Response replaces "success" (for example "failed").
	Response string
	// Info replaces the computed info text.
	Info string
	// Body replaces the whole JSON payload; it is still framed.
	Body []byte
	// Raw is written as is, without framing, instead of a reply.
	Raw []byte
	// Delay waits before answering (cut short by Close).
	Delay time.Duration
	// Refuse closes the connection without answering.
	Refuse bool
	// Hang keeps the connection open without answering until the client
	// closes it or the server is closed.
	Hang bool
	// NoRecord keeps the request's values out of Items.
	NoRecord bool
}

// Handler chooses the reply to a request.
type Handler func(req Request) Reply

// HugeFrameHeader returns a frame header announcing size bytes that are
// never sent, for testing reply size limits.
func HugeFrameHeader(size uint64) []byte {
	h := make([]byte, sender.LargeHeaderSize)
	copy(h, "ZBXD")
	h[4] = sender.FlagProtocol | sender.FlagLarge
	binary.LittleEndian.PutUint64(h[5:], size)
	return h
}

// Server is a listening fake Zabbix trapper. Its methods are safe for
// concurrent use.
type Server struct {
	// Addr is the "127.0.0.1:port" address to send to.
	Addr string

	ln      net.Listener
	handler Handler
	done    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	requests []Request
	items    []sender.Item
	errs     []error
	accepted int
	closed   bool
}

// MaxRequestSize bounds requests the test server accepts.
const MaxRequestSize = 64 << 20

// NewServer starts a plain TCP server on 127.0.0.1:0 answering with h (nil:
// every value processed). It panics if it cannot listen, like httptest.
func NewServer(h Handler) *Server {
	return start(h, nil)
}

// NewTLSServer starts a TLS server on 127.0.0.1:0 with cfg (which must hold
// a certificate and may require client certificates).
func NewTLSServer(h Handler, cfg *tls.Config) *Server {
	if cfg == nil {
		panic("sendertest: NewTLSServer needs a tls.Config")
	}
	return start(h, cfg)
}

func start(h Handler, cfg *tls.Config) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("sendertest: listen: %v", err))
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	if h == nil {
		h = func(Request) Reply { return Reply{} }
	}
	s := &Server{
		Addr:    ln.Addr().String(),
		ln:      ln,
		handler: h,
		done:    make(chan struct{}),
		conns:   map[net.Conn]struct{}{},
	}
	s.wg.Add(1)
	go s.serve()
	return s
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.recordErr(fmt.Errorf("accept: %w", err))
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.accepted++
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(conn)
	}
}

func (s *Server) handle(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	// A generous bound so that a stuck client cannot hold the test forever.
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	var flags [5]byte
	fr := &peekReader{conn: conn, head: flags[:0]}
	payload, err := sender.ReadFrame(fr, MaxRequestSize)
	if err != nil {
		s.recordErr(fmt.Errorf("read request from %s: %w", conn.RemoteAddr(), err))
		return
	}
	req := Request{Payload: payload, RemoteAddr: conn.RemoteAddr().String()}
	if len(fr.head) >= 5 {
		req.Flags = fr.head[4]
	}
	var body struct {
		Request string        `json:"request"`
		Data    []sender.Item `json:"data"`
		Clock   int64         `json:"clock"`
		NS      int64         `json:"ns"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		s.recordErr(fmt.Errorf("decode request: %w", err))
		s.reply(conn, req.Flags, Reply{Response: "failed", Info: "cannot parse as a valid JSON object: " + err.Error()})
		return
	}
	req.Request, req.Data, req.Clock, req.NS = body.Request, body.Data, body.Clock, body.NS
	rep := s.handler(req)
	s.mu.Lock()
	req.Seq = len(s.requests) + 1
	s.requests = append(s.requests, req)
	if !rep.NoRecord {
		s.items = append(s.items, req.Data...)
	}
	s.mu.Unlock()
	if req.Request != "sender data" {
		// The real server closes silently on unknown requests.
		return
	}
	if rep.Delay > 0 {
		t := time.NewTimer(rep.Delay)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return
		}
	}
	switch {
	case rep.Refuse:
		return
	case rep.Hang:
		// Close closes the connection, which ends this loop.
		_ = conn.SetReadDeadline(time.Time{})
		var buf [512]byte
		for {
			if _, err := conn.Read(buf[:]); err != nil {
				return
			}
		}
	}
	if rep.Raw != nil {
		_, _ = conn.Write(rep.Raw)
		return
	}
	if rep.Body == nil {
		resp := rep.Response
		if resp == "" {
			resp = "success"
		}
		info := rep.Info
		if info == "" {
			failed := min(max(rep.Failed, 0), len(req.Data))
			info = fmt.Sprintf("processed: %d; failed: %d; total: %d; seconds spent: 0.000042",
				len(req.Data)-failed, failed, len(req.Data))
		}
		rep.Body, _ = json.Marshal(map[string]string{"response": resp, "info": info})
	}
	s.reply(conn, req.Flags, Reply{Body: rep.Body})
}

// reply frames body like the request (compressed if it was).
func (s *Server) reply(conn net.Conn, reqFlags byte, rep Reply) {
	body := rep.Body
	if body == nil {
		body, _ = json.Marshal(map[string]string{"response": rep.Response, "info": rep.Info})
	}
	frame, err := sender.EncodeFrame(body, reqFlags&sender.FlagZlib != 0)
	if err != nil {
		s.recordErr(err)
		return
	}
	_ = conn.SetWriteDeadline(time.Now().Add(time.Minute))
	if _, err := conn.Write(frame); err != nil {
		s.recordErr(fmt.Errorf("write reply: %w", err))
	}
}

// peekReader remembers the first bytes read, to report the frame flags.
type peekReader struct {
	conn net.Conn
	head []byte
}

func (p *peekReader) Read(b []byte) (int, error) {
	n, err := p.conn.Read(b)
	if need := 5 - len(p.head); need > 0 && n > 0 {
		p.head = append(p.head, b[:min(need, n)]...)
	}
	return n, err
}

func (s *Server) recordErr(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// Items returns a copy of every value received so far, in arrival order.
func (s *Server) Items() []sender.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.items)
}

// Requests returns a copy of every decoded request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Connections returns the number of connections accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Errors returns the protocol errors seen so far (undecodable frames,
// invalid JSON, failed writes).
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

// Close stops listening, closes open connections and waits for handlers.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
