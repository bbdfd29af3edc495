package sender_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

func makeItems(n int) []sender.Item {
	base := time.Now().Unix() - 1000
	items := make([]sender.Item, n)
	for i := range items {
		items[i] = sender.Item{Host: "moodle", Key: fmt.Sprintf("moodle.k[%d]", i), Value: fmt.Sprint(i), Clock: base + int64(i), NS: int64(i)}
	}
	return items
}

func newClient(t testing.TB, opts sender.Options) *sender.Client {
	t.Helper()
	c, err := sender.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startServer(t testing.TB, h sendertest.Handler) *sendertest.Server {
	t.Helper()
	s := sendertest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// deadAddr returns an address on which nothing listens.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// nthRequest scripts a reply per request number (1-based); others succeed.
func nthRequest(replies map[int]sendertest.Reply) sendertest.Handler {
	var n atomic.Int32
	return func(sendertest.Request) sendertest.Reply {
		return replies[int(n.Add(1))]
	}
}

func TestSendBatches(t *testing.T) {
	tests := []struct {
		name      string
		items     int
		batch     int
		compress  bool
		wantSizes []int
	}{
		{"600 in 250s", 600, 0, false, []int{250, 250, 100}},
		{"exact multiple", 500, 250, false, []int{250, 250}},
		{"one", 1, 0, false, []int{1}},
		{"zlib", 600, 0, true, []int{250, 250, 100}},
		{"custom batch", 10, 3, true, []int{3, 3, 3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, nil)
			c := newClient(t, sender.Options{Servers: []string{srv.Addr}, BatchSize: tc.batch, Compress: tc.compress})
			items := makeItems(tc.items)
			res, err := c.Send(context.Background(), items)
			if err != nil {
				t.Fatal(err)
			}
			if res.Processed != tc.items || res.Total != tc.items || res.Failed != 0 {
				t.Fatalf("result %+v", res)
			}
			var sizes []int
			for _, r := range srv.Requests() {
				sizes = append(sizes, len(r.Data))
				if r.Compressed() != tc.compress {
					t.Fatalf("request flags 0x%02x, compress %v", r.Flags, tc.compress)
				}
				if r.Request != "sender data" || r.Clock == 0 {
					t.Fatalf("request header %q clock %d", r.Request, r.Clock)
				}
			}
			if !reflect.DeepEqual(sizes, tc.wantSizes) {
				t.Fatalf("packet sizes %v, want %v", sizes, tc.wantSizes)
			}
			if srv.Connections() != len(tc.wantSizes) {
				t.Fatalf("%d connections for %d packets", srv.Connections(), len(tc.wantSizes))
			}
			if got := srv.Items(); !reflect.DeepEqual(got, items) {
				t.Fatalf("server got %d items, not the ones sent", len(got))
			}
			if errs := srv.Errors(); len(errs) > 0 {
				t.Fatalf("server errors: %v", errs)
			}
		})
	}
}

func TestSendWithoutClockOmitsIt(t *testing.T) {
	srv := startServer(t, nil)
	c := newClient(t, sender.Options{Servers: []string{srv.Addr}})
	if _, err := c.Send(context.Background(), []sender.Item{{Host: "h", Key: "k", Value: "1"}}); err != nil {
		t.Fatal(err)
	}
	p := string(srv.Requests()[0].Payload)
	data := p[strings.Index(p, `"data":`):strings.Index(p, `]`)]
	if strings.Contains(data, "clock") || strings.Contains(data, `"ns"`) {
		t.Fatalf("unstamped value carries a clock: %s", p)
	}
}

func TestSendSanitizes(t *testing.T) {
	srv := startServer(t, nil)
	c := newClient(t, sender.Options{Servers: []string{srv.Addr}})
	long := strings.Repeat("é", sender.MaxValueBytes) // 2 bytes each
	items := []sender.Item{{Host: "h", Key: "a", Value: "x\xffy"}, {Host: "h", Key: "b", Value: long}}
	if _, err := c.Send(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	got := srv.Items()
	if got[0].Value != "x\uFFFDy" {
		t.Fatalf("invalid UTF-8 arrived as %q", got[0].Value)
	}
	if n := len(got[1].Value); n > sender.MaxValueBytes || n < sender.MaxValueBytes-1 || got[1].Value != long[:n] {
		t.Fatalf("long value arrived with %d bytes", n)
	}

	strict := newClient(t, sender.Options{Servers: []string{srv.Addr}, StrictUTF8: true})
	before := srv.Connections()
	_, err := strict.Send(context.Background(), items)
	var ve *sender.ValueError
	if !errors.As(err, &ve) || ve.Key != "a" {
		t.Fatalf("err %v, want ValueError for key a", err)
	}
	if srv.Connections() != before {
		t.Fatal("strict client sent something despite the invalid value")
	}
}

func TestSendFailover(t *testing.T) {
	tests := []struct {
		name  string
		first func(t *testing.T) string
	}{
		{"refused connection", deadAddr},
		{"closed without reply", func(t *testing.T) string {
			return startServer(t, func(sendertest.Request) sendertest.Reply { return sendertest.Reply{Refuse: true, NoRecord: true} }).Addr
		}},
		{"garbage reply", func(t *testing.T) string {
			return startServer(t, func(sendertest.Request) sendertest.Reply {
				return sendertest.Reply{Raw: []byte("HTTP/1.0 400 Bad Request\r\n\r\n"), NoRecord: true}
			}).Addr
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			second := startServer(t, nil)
			c := newClient(t, sender.Options{Servers: []string{tc.first(t), second.Addr}, Timeout: 5 * time.Second})
			items := makeItems(300)
			res, err := c.Send(context.Background(), items)
			if err != nil {
				t.Fatal(err)
			}
			if res.Processed != 300 {
				t.Fatalf("result %+v", res)
			}
			if !reflect.DeepEqual(second.Items(), items) {
				t.Fatal("second server did not get every item")
			}
		})
	}
}

func TestSendAnsweredNeverResent(t *testing.T) {
	tests := []struct {
		name    string
		reply   sendertest.Reply
		check   func(t *testing.T, err error)
		partial int
	}{
		{"partial failure", sendertest.Reply{Failed: 2}, func(t *testing.T, err error) {
			var pe *sender.PartialError
			if !errors.As(err, &pe) || pe.Result.Failed != 6 || pe.Result.Total != 600 {
				t.Fatalf("err %v, want PartialError with 6 of 600 failed", err)
			}
		}, 2},
		{"rejected", sendertest.Reply{Response: "failed", Info: "cannot parse as a valid JSON object"}, func(t *testing.T, err error) {
			var re *sender.RejectedError
			if !errors.As(err, &re) || !strings.Contains(re.Info, "cannot parse") || re.Items != 250 {
				t.Fatalf("err %v, want RejectedError", err)
			}
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := startServer(t, func(sendertest.Request) sendertest.Reply { return tc.reply })
			second := startServer(t, nil)
			c := newClient(t, sender.Options{Servers: []string{first.Addr, second.Addr}})
			res, err := c.Send(context.Background(), makeItems(600))
			tc.check(t, err)
			var de *sender.DeliveryError
			if errors.As(err, &de) {
				t.Fatalf("answered packets reported undelivered: %v", err)
			}
			if n := len(second.Items()); n != 0 {
				t.Fatalf("answered values were resent to the second server (%d)", n)
			}
			if len(first.Requests()) != 3 {
				t.Fatalf("%d requests, want 3", len(first.Requests()))
			}
			if res.Failed != 3*tc.partial {
				t.Fatalf("result %+v", res)
			}
		})
	}
}

func TestSendNotDelivered(t *testing.T) {
	// The first packet is answered, the later ones are not.
	srv := startServer(t, nthRequest(map[int]sendertest.Reply{
		2: {Refuse: true, NoRecord: true}, 3: {Refuse: true, NoRecord: true},
	}))
	c := newClient(t, sender.Options{Servers: []string{srv.Addr}})
	items := makeItems(600)
	res, err := c.Send(context.Background(), items)
	var de *sender.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err %v, want DeliveryError", err)
	}
	if !reflect.DeepEqual(de.Undelivered, items[250:]) {
		t.Fatalf("undelivered: %d items, want exactly items[250:]", len(de.Undelivered))
	}
	if de.Server != srv.Addr {
		t.Fatalf("server %q", de.Server)
	}
	if res.Processed != 250 || res.Total != 250 {
		t.Fatalf("result %+v, want the answered packet counted", res)
	}
	if len(srv.Requests()) != 2 {
		t.Fatalf("%d requests: Send should stop at the first undelivered packet", len(srv.Requests()))
	}
}

func TestSendPartialThenUndelivered(t *testing.T) {
	srv := startServer(t, nthRequest(map[int]sendertest.Reply{1: {Failed: 1}, 2: {Refuse: true}}))
	c := newClient(t, sender.Options{Servers: []string{srv.Addr}, BatchSize: 2})
	items := makeItems(5)
	_, err := c.Send(context.Background(), items)
	var de *sender.DeliveryError
	var pe *sender.PartialError
	if !errors.As(err, &de) || !errors.As(err, &pe) {
		t.Fatalf("err %v, want both a PartialError and a DeliveryError", err)
	}
	if !reflect.DeepEqual(de.Undelivered, items[2:]) || pe.Result.Failed != 1 {
		t.Fatalf("undelivered %v, partial %+v", de.Undelivered, pe.Result)
	}
}

func TestSendHostileReplies(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		body string
		want error
	}{
		{name: "huge announced length", raw: sendertest.HugeFrameHeader(1 << 40), want: sender.ErrFrameTooLarge},
		{name: "just over the limit", raw: append([]byte("ZBXD\x01"), 0x01, 0x00, 0x10, 0x00, 0, 0, 0, 0), want: sender.ErrFrameTooLarge},
		{name: "bad magic", raw: []byte("ZBXC\x01\x02\x00\x00\x00\x00\x00\x00\x00{}"), want: sender.ErrBadMagic},
		{name: "bad flags", raw: []byte("ZBXD\x80\x02\x00\x00\x00\x00\x00\x00\x00{}"), want: sender.ErrBadFlags},
		{name: "short body then close", raw: []byte("ZBXD\x01\x64\x00\x00\x00\x00\x00\x00\x00{\"resp"), want: io.ErrUnexpectedEOF},
		{name: "bad zlib", raw: []byte("ZBXD\x03\x04\x00\x00\x00\x10\x00\x00\x00abcd"), want: sender.ErrBadCompression},
		{name: "not json", body: `<html>`, want: sender.ErrMalformedReply},
		{name: "unknown response", body: `{"response":"ok"}`, want: sender.ErrMalformedReply},
		{name: "bad counts", body: `{"response":"success","info":"processed: many"}`, want: sender.ErrMalformedReply},
		{name: "nothing", raw: []byte{}, want: io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, func(sendertest.Request) sendertest.Reply {
				if tc.body != "" {
					return sendertest.Reply{Body: []byte(tc.body)}
				}
				return sendertest.Reply{Raw: tc.raw}
			})
			c := newClient(t, sender.Options{Servers: []string{srv.Addr}, MaxReplySize: 1 << 20})
			items := makeItems(3)
			_, err := c.Send(context.Background(), items)
			var de *sender.DeliveryError
			if !errors.As(err, &de) || !reflect.DeepEqual(de.Undelivered, items) {
				t.Fatalf("err %v, want a DeliveryError with every item", err)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSendNeverReplies(t *testing.T) {
	srv := startServer(t, func(sendertest.Request) sendertest.Reply { return sendertest.Reply{Hang: true} })
	c := newClient(t, sender.Options{Servers: []string{srv.Addr}, Timeout: 300 * time.Millisecond})
	_, err := c.Send(context.Background(), makeItems(2))
	var de *sender.DeliveryError
	if !errors.As(err, &de) || len(de.Undelivered) != 2 {
		t.Fatalf("err %v, want DeliveryError", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err %v, want a timeout", err)
	}
}

func TestSendContextCancel(t *testing.T) {
	got := make(chan struct{}, 1)
	srv := startServer(t, func(sendertest.Request) sendertest.Reply {
		got <- struct{}{}
		return sendertest.Reply{Hang: true}
	})
	second := startServer(t, nil)
	c := newClient(t, sender.Options{Servers: []string{srv.Addr, second.Addr}, Timeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	_, err := c.Send(ctx, makeItems(10))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	var de *sender.DeliveryError
	if !errors.As(err, &de) || len(de.Undelivered) != 10 {
		t.Fatalf("err %v, want DeliveryError with 10 items", err)
	}
	if len(second.Items()) != 0 {
		t.Fatal("failed over after cancellation")
	}
	// An already cancelled context sends nothing.
	_, err = c.Send(ctx, makeItems(1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestNewClientErrors(t *testing.T) {
	for _, servers := range [][]string{nil, {""}, {"host:port:extra"}} {
		if _, err := sender.NewClient(sender.Options{Servers: servers}); err == nil {
			t.Errorf("servers %q accepted", servers)
		}
	}
	c := newClient(t, sender.Options{Servers: []string{"zabbix.example", "[::1]:10052"}})
	if got := c.Servers(); !reflect.DeepEqual(got, []string{"zabbix.example:10051", "[::1]:10052"}) {
		t.Fatalf("servers %v", got)
	}
}

// --- TLS -----------------------------------------------------------------

type testPKI struct {
	caFile, certFile, keyFile string
	caPool                    *x509.CertPool
	server                    tls.Certificate
	caSubject                 string
	serverSubject             string
}

func newCert(t *testing.T, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, der
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func makePKI(t *testing.T) testPKI {
	dir := t.TempDir()
	now := time.Now()
	ca, caKey, caDER := newCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Zabbix CA", Organization: []string{"moodle-zabbix"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	srvCert, srvKey, srvDER := newCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "zabbix.test", Organization: []string{"moodle-zabbix"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: []string{"zabbix.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, ca, caKey)
	_, cliKey, cliDER := newCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "moodle-zabbix client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, ca, caKey)
	p := testPKI{
		caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "client.pem"), keyFile: filepath.Join(dir, "client.key"),
		caPool: x509.NewCertPool(), caSubject: ca.Subject.String(), serverSubject: srvCert.Subject.String(),
	}
	p.caPool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	writePEM(t, p.certFile, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	return p
}

func TestSendTLS(t *testing.T) {
	pki := makePKI(t)
	srv := sendertest.NewTLSServer(nil, &tls.Config{
		Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.caPool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	defer srv.Close()
	base := sender.TLSOptions{CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile}
	tests := []struct {
		name   string
		mod    func(o *sender.TLSOptions)
		wantOK bool
	}{
		{"ip name", func(*sender.TLSOptions) {}, true},
		{"server name", func(o *sender.TLSOptions) { o.ServerName = "zabbix.test" }, true},
		{"issuer and subject", func(o *sender.TLSOptions) {
			o.ServerCertIssuer, o.ServerCertSubject = pki.caSubject, pki.serverSubject
		}, true},
		{"wrong issuer", func(o *sender.TLSOptions) { o.ServerCertIssuer = "CN=Other CA" }, false},
		{"wrong subject", func(o *sender.TLSOptions) { o.ServerCertSubject = "CN=zabbix.test" }, false},
		{"wrong server name", func(o *sender.TLSOptions) { o.ServerName = "other.test" }, false},
		{"no client certificate", func(o *sender.TLSOptions) { o.CertFile, o.KeyFile = "", "" }, false},
		{"system roots", func(o *sender.TLSOptions) { o.CAFile = "" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := base
			tc.mod(&opts)
			cfg, err := sender.TLSConfig(opts)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, sender.Options{Servers: []string{srv.Addr}, TLS: cfg, Timeout: 5 * time.Second})
			before := len(srv.Items())
			res, err := c.Send(context.Background(), makeItems(3))
			if tc.wantOK {
				if err != nil || res.Processed != 3 || len(srv.Items()) != before+3 {
					t.Fatalf("res %+v err %v", res, err)
				}
				return
			}
			var de *sender.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("err %v, want DeliveryError", err)
			}
			if len(srv.Items()) != before {
				t.Fatal("values delivered despite a failed TLS check")
			}
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	pki := makePKI(t)
	for _, o := range []sender.TLSOptions{
		{CAFile: "/nonexistent/ca.pem"},
		{CAFile: pki.keyFile},
		{CertFile: pki.certFile},
		{CertFile: pki.certFile, KeyFile: pki.caFile},
	} {
		if _, err := sender.TLSConfig(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func BenchmarkSend10k(b *testing.B) {
	for _, compress := range []bool{false, true} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) {
			srv := sendertest.NewServer(func(sendertest.Request) sendertest.Reply { return sendertest.Reply{NoRecord: true} })
			defer srv.Close()
			c := newClient(b, sender.Options{Servers: []string{srv.Addr}, Compress: compress})
			items := makeItems(10000)
			b.ResetTimer()
			for b.Loop() {
				res, err := c.Send(context.Background(), items)
				if err != nil || res.Processed != 10000 {
					b.Fatal(res, err)
				}
			}
			b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "values/s")
		})
	}
}

// TestOfficialSenderAcceptsInputFile feeds WriteSenderInput's output to the
// real zabbix_sender, pointed at a sendertest server.
func TestOfficialSenderAcceptsInputFile(t *testing.T) {
	bin := os.Getenv("MZ_ZABBIX_SENDER")
	if bin == "" {
		t.Skip("set MZ_ZABBIX_SENDER=/usr/bin/zabbix_sender (package zabbix-agent) to check input files with the official binary")
	}
	if bin == "1" {
		bin = "/usr/bin/zabbix_sender"
	}
	srv := startServer(t, nil)
	items := []sender.Item{
		{Host: "moodle site", Key: "moodle.users.active", Value: "42", Clock: 1795292192, NS: 5},
		{Host: "h", Key: `moodle.k["a b",2]`, Value: `quote " and backslash \ and	tab`, Clock: 1795292193, NS: 6},
		{Host: "h", Key: "moodle.lld", Value: `[{"{#CATID}":"3"}]`, Clock: 1795292194, NS: 7},
	}
	path := filepath.Join(t.TempDir(), "values.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.WriteSenderInput(f, items); err != nil {
		t.Fatal(err)
	}
	f.Close()
	host, port, _ := net.SplitHostPort(srv.Addr)
	out, err := exec.Command(bin, "-z", host, "-p", port, "-T", "-N", "-i", path).CombinedOutput()
	if err != nil {
		t.Fatalf("zabbix_sender: %v\n%s", err, out)
	}
	if got := srv.Items(); !reflect.DeepEqual(got, items) {
		t.Fatalf("server got %+v\nwant %+v\nzabbix_sender said: %s", got, items, out)
	}
}
