package sender_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

func redirectTo(addr string, rev int) sendertest.Reply {
	return sendertest.Reply{NoRecord: true, Body: fmt.Appendf(nil, `{"response":"failed","redirect":{"revision":%d,"address":"%s"}}`, rev, addr)}
}

// TestRedirectFollowed: a server that answers with a 7.0 redirect sends the packet to the
// proxy it names; later packets for the same host go to that proxy directly, until it answers
// with a reset, after which the servers are used again.
func TestRedirectFollowed(t *testing.T) {
	reset := false
	proxy := sendertest.NewServer(func(sendertest.Request) sendertest.Reply {
		if reset {
			return sendertest.Reply{NoRecord: true, Body: []byte(`{"response":"failed","redirect":{"reset":true}}`)}
		}
		return sendertest.Reply{}
	})
	defer proxy.Close()
	redirecting := true
	server := sendertest.NewServer(func(sendertest.Request) sendertest.Reply {
		if redirecting {
			return redirectTo(proxy.Addr, 3)
		}
		return sendertest.Reply{}
	})
	defer server.Close()
	c, err := sender.NewClient(sender.Options{Servers: []string{server.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(v string) {
		t.Helper()
		res, err := c.Send(context.Background(), []sender.Item{{Host: "h", Key: "k", Value: v}})
		if err != nil || res.Processed != 1 {
			t.Fatalf("send %s: %v, %v", v, res, err)
		}
	}
	send("1")
	if len(proxy.Items()) != 1 || server.Connections() != 1 {
		t.Fatalf("after a redirect: proxy has %d values, server %d connections", len(proxy.Items()), server.Connections())
	}
	send("2")
	if len(proxy.Items()) != 2 || server.Connections() != 1 {
		t.Fatalf("the redirect was not remembered: proxy %d values, server %d connections", len(proxy.Items()), server.Connections())
	}
	reset, redirecting = true, false
	send("3")
	if len(server.Items()) != 1 || server.Items()[0].Value != "3" {
		t.Fatalf("after a reset the server must receive the value: %v", server.Items())
	}
	send("4")
	if got := proxy.Connections(); got != 3 {
		t.Errorf("proxy saw %d connections, want 3 (the reset one included, then none)", got)
	}
}

// TestRedirectLoopIsAnError: a redirect answered by another redirect is not followed again;
// the values are undelivered (to be spooled).
func TestRedirectLoopIsAnError(t *testing.T) {
	var a, b *sendertest.Server
	b = sendertest.NewServer(func(sendertest.Request) sendertest.Reply { return redirectTo(a.Addr, 2) })
	defer b.Close()
	a = sendertest.NewServer(func(sendertest.Request) sendertest.Reply { return redirectTo(b.Addr, 1) })
	defer a.Close()
	c, _ := sender.NewClient(sender.Options{Servers: []string{a.Addr}})
	_, err := c.Send(context.Background(), []sender.Item{{Host: "h", Key: "k", Value: "1"}})
	var de *sender.DeliveryError
	if !errors.As(err, &de) || len(de.Undelivered) != 1 {
		t.Fatalf("err = %v, want a DeliveryError", err)
	}
	if a.Connections()+b.Connections() != 2 {
		t.Errorf("%d connections, want 2", a.Connections()+b.Connections())
	}
}

func TestParseReplyRedirect(t *testing.T) {
	_, err := sender.ParseReply([]byte(`{"response":"failed","redirect":{"revision":"7","address":"proxy1"}}`))
	var rd *sender.RedirectError
	if !errors.As(err, &rd) || rd.Address != "proxy1:10051" || rd.Revision != 7 {
		t.Errorf("err = %#v", err)
	}
	_, err = sender.ParseReply([]byte(`{"response":"failed","info":"no"}`))
	var rej *sender.RejectedError
	if !errors.As(err, &rej) {
		t.Errorf("plain failed: %v", err)
	}
}
