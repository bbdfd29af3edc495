package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// burstWithDiscovery is a daily burst with an LLD value, plain values and values of the items
// that discovery creates.
func burstWithDiscovery(protos int) *measures.Burst {
	clock := time.Unix(1780000000, 0)
	b := &measures.Burst{Family: measures.Daily}
	b.Values = append(b.Values,
		measures.Value{Key: "moodle.discovery.auth", Value: `[{"{#AUTH}":"manual"}]`, Clock: clock, Discovery: true},
		measures.Value{Key: "moodle.users.alive", Value: "5", Clock: clock})
	for i := 0; i < protos; i++ {
		b.Values = append(b.Values, measures.Value{Key: fmt.Sprintf("moodle.auth.users[a%d]", i), Value: "1", Clock: clock, Prototype: true})
	}
	return b
}

func spoolingSender(t *testing.T, addr string) *sender.SpoolingSender {
	t.Helper()
	c, err := sender.NewClient(sender.Options{Servers: []string{addr}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := sender.OpenSpool(t.TempDir(), sender.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return &sender.SpoolingSender{Sender: c, Spool: sp}
}

// TestDeliverHoldsDiscoveredValues: values of freshly discovered items are sent one per packet
// until Zabbix accepts them; accepted ones are never sent again.
func TestDeliverHoldsDiscoveredValues(t *testing.T) {
	var mu sync.Mutex
	known := map[string]int{} // key -> attempts
	trapper := sendertest.NewServer(func(req sendertest.Request) sendertest.Reply {
		mu.Lock()
		defer mu.Unlock()
		failed := 0
		for _, it := range req.Data {
			known[it.Key]++
			// Zabbix "learns" the discovered items after their second attempt.
			if it.Key != "moodle.users.alive" && it.Key != "moodle.discovery.auth" && known[it.Key] < 3 {
				failed++
			}
		}
		return sendertest.Reply{Failed: failed}
	})
	defer trapper.Close()
	d := &Deliverer{Sender: spoolingSender(t, trapper.Addr), LLDRetry: time.Millisecond, LLDWait: 5 * time.Second, Logger: testLogger(t)}
	out := d.Deliver(context.Background(), "h", burstWithDiscovery(3))
	if out.Failed != 0 || out.Held != 3 || out.Processed != 5 || out.Err != nil {
		t.Fatalf("delivery %+v", out)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range known {
		want := 3
		if k == "moodle.users.alive" || k == "moodle.discovery.auth" {
			want = 1
		}
		if n != want {
			t.Errorf("%s sent %d times, want %d", k, n, want)
		}
	}
}

// TestDeliverUnreachableSpoolsTogether: when Zabbix cannot be reached, the values of discovered
// items go to the spool in one packet instead of one connection attempt each, held apart: when
// Zabbix is back, the replay sends the discovery data, and the values it refuses while it
// creates their items stay in the spool until a later replay, instead of being lost.
func TestDeliverUnreachableSpoolsTogether(t *testing.T) {
	trapper := sendertest.NewServer(func(sendertest.Request) sendertest.Reply { return sendertest.Reply{Refuse: true, NoRecord: true} })
	defer trapper.Close()
	now := time.Unix(1_780_000_100, 0)
	sp, err := sender.OpenSpool(t.TempDir(), sender.SpoolOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	client := func(addr string) *sender.Client {
		c, err := sender.NewClient(sender.Options{Servers: []string{addr}, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ss := &sender.SpoolingSender{Sender: client(trapper.Addr), Spool: sp}
	d := &Deliverer{Sender: ss, Logger: testLogger(t)}
	out := d.Deliver(context.Background(), "h", burstWithDiscovery(40))
	if out.Spooled != 42 || out.Err == nil {
		t.Fatalf("delivery %+v, want all 42 values spooled and an error", out)
	}
	if n := trapper.Connections(); n > 3 {
		t.Errorf("%d connection attempts for one unreachable burst", n)
	}

	// Zabbix is back and learns the discovered items only after the discovery data has been
	// processed and its configuration cache updated (here: once the clock has moved on).
	var mu sync.Mutex
	learnt := false
	back := sendertest.NewServer(func(req sendertest.Request) sendertest.Reply {
		mu.Lock()
		defer mu.Unlock()
		failed := 0
		for _, it := range req.Data {
			if strings.HasPrefix(it.Key, "moodle.auth.users") && !learnt {
				failed++
			}
		}
		return sendertest.Reply{Failed: failed}
	})
	defer back.Close()
	ss.Sender = client(back.Addr)
	next := &measures.Burst{Family: measures.Instant, Values: []measures.Value{{Key: "moodle.users.online", Value: "3", Clock: now}}}
	out = d.Deliver(context.Background(), "h", next)
	if out.Err != nil || out.Failed != 0 || out.Replayed != 2 || out.ReplayHeld != 40 || sp.Depth().Items != 40 {
		t.Fatalf("first replay: %+v, depth %d; want 2 replayed, 40 kept, none refused", out, sp.Depth().Items)
	}
	if !strings.Contains(out.String(), "40 kept in the spool until Zabbix knows their items") {
		t.Errorf("summary %q does not tell about the kept values", out.String())
	}
	mu.Lock()
	learnt = true
	mu.Unlock()
	now = now.Add(time.Minute)
	out = d.Deliver(context.Background(), "h", next)
	if out.Err != nil || out.Failed != 0 || out.Replayed != 40 || out.ReplayHeld != 0 || sp.Depth().Items != 0 {
		t.Fatalf("second replay: %+v, depth %d; want the 40 kept values delivered", out, sp.Depth().Items)
	}
}
