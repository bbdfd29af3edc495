package sender_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

func openSpool(t *testing.T, dir string, opts sender.SpoolOptions) *sender.Spool {
	t.Helper()
	sp, err := sender.OpenSpool(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

// collect replays everything and returns the values handed to send.
func collect(t *testing.T, sp *sender.Spool) ([]sender.Item, sender.ReplayStats) {
	t.Helper()
	var got []sender.Item
	st, err := sp.Replay(context.Background(), func(_ context.Context, items []sender.Item) error {
		got = append(got, items...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

func TestSpoolAppendReplay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	sp := openSpool(t, dir, sender.SpoolOptions{SegmentBytes: 2048, ReplayBatch: 7})
	items := makeItems(100)
	for i := 0; i < 100; i += 10 {
		if err := sp.Append(items[i : i+10]); err != nil {
			t.Fatal(err)
		}
	}
	if d := sp.Depth(); d.Records != 10 || d.Items != 100 || d.OldestClock != items[0].Clock {
		t.Fatalf("depth %+v", d)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) < 2 {
		t.Fatalf("%d segments, want rotation", len(segs))
	}
	for _, p := range append(segs, filepath.Join(dir, "lock")) {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v err %v", p, fi.Mode(), err)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode())
	}
	sp.Close()

	sp = openSpool(t, dir, sender.SpoolOptions{SegmentBytes: 2048, ReplayBatch: 7})
	got, st := collect(t, sp)
	if !reflect.DeepEqual(got, items) {
		t.Fatalf("replayed %d items, not the appended ones", len(got))
	}
	if st.Items != 100 || st.Records != 10 || st.Batches != 10 || st.Pending.Items != 0 {
		t.Fatalf("stats %+v", st)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(segs) != 0 {
		t.Fatalf("consumed segments left behind: %v", segs)
	}
	sp.Close()
	sp = openSpool(t, dir, sender.SpoolOptions{})
	if d := sp.Depth(); d.Items != 0 {
		t.Fatalf("consumed values came back: %+v", d)
	}
	if err := sp.Append(items[:1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := collect(t, sp); !reflect.DeepEqual(got, items[:1]) {
		t.Fatalf("got %v", got)
	}
}

func TestSpoolStampsClock(t *testing.T) {
	now := time.Unix(1800000000, 42)
	sp := openSpool(t, t.TempDir(), sender.SpoolOptions{Now: func() time.Time { return now }})
	if err := sp.Append([]sender.Item{{Host: "h", Key: "k", Value: "1"}, {Host: "h", Key: "k", Value: "2", Clock: 1799999999, NS: 7}}); err != nil {
		t.Fatal(err)
	}
	got, _ := collect(t, sp)
	want := []sender.Item{{Host: "h", Key: "k", Value: "1", Clock: 1800000000, NS: 42}, {Host: "h", Key: "k", Value: "2", Clock: 1799999999, NS: 7}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestSpoolReplayOutcomes(t *testing.T) {
	items := makeItems(30)
	tests := []struct {
		name        string
		send        func(batch []sender.Item) error
		wantErr     bool
		wantPending []sender.Item
	}{
		{"partial error consumes", func([]sender.Item) error { return &sender.PartialError{Result: sender.Result{Failed: 1}} }, false, nil},
		{"rejected consumes", func([]sender.Item) error { return &sender.RejectedError{Info: "x"} }, false, nil},
		{"delivery error keeps all", func(b []sender.Item) error { return &sender.DeliveryError{Undelivered: b} }, true, items},
		{"delivery error keeps the tail", func(b []sender.Item) error { return &sender.DeliveryError{Undelivered: b[4:]} }, true, items[4:]},
		{"delivery error with a foreign list keeps all", func(b []sender.Item) error {
			return &sender.DeliveryError{Undelivered: []sender.Item{{Key: "other"}}}
		}, true, items},
		{"context error keeps all", func([]sender.Item) error { return fmt.Errorf("send: %w", context.Canceled) }, true, items},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sp := openSpool(t, dir, sender.SpoolOptions{ReplayBatch: 100})
			for i := 0; i < 30; i += 10 {
				if err := sp.Append(items[i : i+10]); err != nil {
					t.Fatal(err)
				}
			}
			calls := 0
			st, err := sp.Replay(context.Background(), func(_ context.Context, b []sender.Item) error {
				calls++
				return tc.send(b)
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if calls != 1 {
				t.Fatalf("%d send calls", calls)
			}
			if st.Pending.Items != len(tc.wantPending) {
				t.Fatalf("pending %+v", st.Pending)
			}
			sp.Close()
			sp = openSpool(t, dir, sender.SpoolOptions{})
			got, _ := collect(t, sp)
			if len(tc.wantPending) == 0 && len(got) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.wantPending) {
				t.Fatalf("after reopen %d pending, want %d", len(got), len(tc.wantPending))
			}
		})
	}
}

func TestSpoolBounds(t *testing.T) {
	t.Run("max bytes", func(t *testing.T) {
		sp := openSpool(t, t.TempDir(), sender.SpoolOptions{MaxBytes: 3000, SegmentBytes: 1000})
		items := makeItems(40)
		for i := range 40 {
			if err := sp.Append(items[i : i+1]); err != nil {
				t.Fatal(err)
			}
		}
		d := sp.Depth()
		if d.Bytes > 3000 || d.Items == 0 || d.Items == 40 {
			t.Fatalf("depth %+v", d)
		}
		got, st := collect(t, sp)
		if st.Dropped != 40-d.Items || sp.Stats().Dropped != st.Dropped {
			t.Fatalf("dropped %d, stats %+v, depth %+v", st.Dropped, sp.Stats(), d)
		}
		if !reflect.DeepEqual(got, items[40-d.Items:]) {
			t.Fatal("did not keep the newest values")
		}
	})
	t.Run("max age", func(t *testing.T) {
		// MaxAge is about time spent in the spool, whatever the clocks of
		// the values: a catch-up burst for a past period must be kept.
		base := time.Unix(1700000000, 0)
		now := base
		opts := sender.SpoolOptions{MaxAge: time.Hour, Now: func() time.Time { return now }}
		dir := t.TempDir()
		sp := openSpool(t, dir, opts)
		item := func(key string, clock time.Time) []sender.Item {
			return []sender.Item{{Host: "h", Key: key, Value: "1", Clock: clock.Unix()}}
		}
		past := item("past", base.Add(-30*24*time.Hour))
		fresh := item("fresh", base.Add(30*time.Minute))
		late := item("late", base.Add(-2*time.Hour))
		steps := []struct {
			at          time.Duration // since base
			reopen      bool
			append      []sender.Item
			wantDepth   int
			wantDropped int // cumulative, this Spool instance
		}{
			{at: 0, append: past, wantDepth: 1},
			{at: 30 * time.Minute, append: fresh, wantDepth: 2},
			{at: time.Hour, wantDepth: 2},                                                    // exactly MaxAge: kept
			{at: 61 * time.Minute, reopen: true, append: late, wantDepth: 2, wantDropped: 1}, // past dropped at open
		}
		for i, st := range steps {
			now = base.Add(st.at)
			if st.reopen {
				sp.Close()
				sp = openSpool(t, dir, opts)
			}
			if st.append != nil {
				if err := sp.Append(st.append); err != nil {
					t.Fatal(err)
				}
			}
			if d, s := sp.Depth(), sp.Stats(); d.Items != st.wantDepth || s.Dropped != st.wantDropped {
				t.Fatalf("step %d: depth %+v stats %+v, want %d pending, %d dropped", i, d, s, st.wantDepth, st.wantDropped)
			}
		}
		// fresh (appended at +30m) is now over MaxAge, late (+61m) is not,
		// although late's clock is older than fresh's.
		now = base.Add(100 * time.Minute)
		got, st := collect(t, sp)
		if st.Dropped != 2 || sp.Stats().Dropped != 2 || !reflect.DeepEqual(got, late) {
			t.Fatalf("got %v, stats %+v", got, st)
		}
	})
}

func TestSpoolLocked(t *testing.T) {
	dir := t.TempDir()
	openSpool(t, dir, sender.SpoolOptions{})
	if sp, err := sender.OpenSpool(dir, sender.SpoolOptions{}); err == nil {
		sp.Close()
		t.Fatal("a second open of the same spool succeeded")
	}
}

func TestSpoolTornTail(t *testing.T) {
	tests := []struct {
		name string
		tail []byte
	}{
		{"half header", []byte{0x20, 0x00, 0x00}},
		{"half payload", append([]byte{0x40, 0, 0, 0, 1, 2, 3, 4}, `[{"host":"h"`...)},
		{"zeros", make([]byte, 4096)},
		{"bad checksum", append([]byte{0x02, 0, 0, 0, 1, 2, 3, 4}, `[]`...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sp := openSpool(t, dir, sender.SpoolOptions{})
			items := makeItems(4)
			for i := range 3 {
				if err := sp.Append(items[i : i+1]); err != nil {
					t.Fatal(err)
				}
			}
			sp.Close()
			segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(tc.tail)
			f.Close()

			sp = openSpool(t, dir, sender.SpoolOptions{})
			if d := sp.Depth(); d.Items != 3 || sp.Stats().Corrupt != 1 {
				t.Fatalf("depth %+v stats %+v", d, sp.Stats())
			}
			if err := sp.Append(items[3:]); err != nil {
				t.Fatal(err)
			}
			sp.Close()
			sp = openSpool(t, dir, sender.SpoolOptions{})
			got, st := collect(t, sp)
			if !reflect.DeepEqual(got, items) {
				t.Fatalf("after a torn tail got %v", got)
			}
			if st.Corrupt != 0 {
				t.Fatalf("torn tail still present after repair: %+v", st)
			}
		})
	}
}

// --- crash safety with a real process killed by SIGKILL -------------------

const crashEnv = "SENDER_SPOOL_CRASH_DIR"

// TestSpoolCrashChild is the child process of TestSpoolCrash: it appends
// numbered values and reports each successful Append on stdout.
func TestSpoolCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("child process of TestSpoolCrash only")
	}
	run := os.Getenv(crashEnv + "_RUN")
	sp, err := sender.OpenSpool(dir, sender.SpoolOptions{SegmentBytes: 256 << 10, MaxBytes: -1, MaxAge: -1})
	if err != nil {
		fmt.Printf("open error %v\n", err)
		os.Exit(3)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 5000 && time.Now().Before(deadline); i++ {
		n := 1 + rng.IntN(8)
		batch := make([]sender.Item, n)
		for j := range batch {
			batch[j] = sender.Item{Host: "h", Key: "crash", Value: fmt.Sprintf("%s-%d-%d-%s", run, i, j, strings.Repeat("x", rng.IntN(20000))), Clock: time.Now().Unix()}
		}
		if err := sp.Append(batch); err != nil {
			fmt.Printf("append error %v\n", err)
			os.Exit(3)
		}
		fmt.Printf("ok %s %d %d\n", run, i, n)
	}
	os.Exit(0)
}

func TestSpoolCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	acked := map[string]bool{} // "run-i-j" prefixes whose Append returned nil
	for run := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSpoolCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, crashEnv+"_RUN="+strconv.Itoa(run))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 20 + run*37
		sc := bufio.NewScanner(out)
		lines := 0
		for sc.Scan() {
			var r, i, n int
			if _, err := fmt.Sscanf(sc.Text(), "ok %d %d %d", &r, &i, &n); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child said %q", sc.Text())
			}
			for j := range n {
				acked[fmt.Sprintf("%d-%d-%d", r, i, j)] = true
			}
			if lines++; lines == killAfter {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child was not killed as planned: %v (%d lines)", err, lines)
		}
		// The spool must open after every crash.
		sp, err := sender.OpenSpool(dir, sender.SpoolOptions{MaxBytes: -1, MaxAge: -1})
		if err != nil {
			t.Fatalf("reopen after crash %d: %v", run, err)
		}
		sp.Close()
	}
	sp := openSpool(t, dir, sender.SpoolOptions{MaxBytes: -1, MaxAge: -1})
	got, st := collect(t, sp)
	seen := map[string]int{}
	for _, it := range got {
		parts := strings.SplitN(it.Value, "-", 4)
		seen[strings.Join(parts[:3], "-")]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("value %s present %d times", k, n)
		}
	}
	for k := range acked {
		if seen[k] != 1 {
			t.Errorf("acknowledged value %s lost", k)
		}
	}
	t.Logf("%d acknowledged values, %d replayed, stats %+v", len(acked), len(got), st)
}

// --- SpoolingSender --------------------------------------------------------

func TestSpoolingSender(t *testing.T) {
	dead := deadAddr(t)
	c := newClient(t, sender.Options{Servers: []string{dead}, Timeout: 5 * time.Second})
	sp := openSpool(t, t.TempDir(), sender.SpoolOptions{})
	ss := &sender.SpoolingSender{Sender: c, Spool: sp}
	first, second := makeItems(300), makeItems(5)
	for i := range second {
		second[i].Key = "second"
	}

	res, err := ss.Send(context.Background(), first)
	var spe *sender.SpooledError
	var de *sender.DeliveryError
	if !errors.As(err, &spe) || errors.As(err, &de) || res.Spooled != 300 || spe.Spooled != 300 {
		t.Fatalf("res %+v err %v, want 300 values spooled", res, err)
	}
	// While the server is down, new values queue behind the old ones.
	res, err = ss.Send(context.Background(), second)
	if !errors.As(err, &spe) || res.Spooled != 5 || sp.Depth().Items != 305 {
		t.Fatalf("res %+v err %v depth %+v", res, err, sp.Depth())
	}

	// The server comes back: old values first, then new ones, nothing twice.
	srv := startServer(t, nil)
	ss.Sender = newClient(t, sender.Options{Servers: []string{srv.Addr}})
	third := makeItems(2)
	res, err = ss.Send(context.Background(), third)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replay.Items != 305 || res.Processed != 2 || res.Spooled != 0 || sp.Depth().Items != 0 {
		t.Fatalf("res %+v depth %+v", res, sp.Depth())
	}
	want := append(append(append([]sender.Item{}, first...), second...), third...)
	if got := srv.Items(); !reflect.DeepEqual(got, want) {
		t.Fatalf("server got %d values, want %d in order", len(got), len(want))
	}
}

func TestSpoolingSenderPartialDelivery(t *testing.T) {
	// Packets 1 and 2 answered (one value failed), packet 3 refused.
	srv := startServer(t, nthRequest(map[int]sendertest.Reply{1: {Failed: 1}, 3: {Refuse: true, NoRecord: true}}))
	c := newClient(t, sender.Options{Servers: []string{srv.Addr}, BatchSize: 10})
	sp := openSpool(t, t.TempDir(), sender.SpoolOptions{})
	ss := &sender.SpoolingSender{Sender: c, Spool: sp}
	items := makeItems(25)
	res, err := ss.Send(context.Background(), items)
	var spe *sender.SpooledError
	var pe *sender.PartialError
	if !errors.As(err, &spe) || !errors.As(err, &pe) || res.Spooled != 5 || res.Processed != 19 {
		t.Fatalf("res %+v err %v", res, err)
	}
	got, _ := collect(t, sp)
	if !reflect.DeepEqual(got, items[20:]) {
		t.Fatalf("spooled %v, want the last 5", got)
	}
}

func TestSpoolingSenderReplayFailures(t *testing.T) {
	sp := openSpool(t, t.TempDir(), sender.SpoolOptions{})
	items := makeItems(25)
	second, fresh := makeItems(3), makeItems(2)
	for i := range second {
		second[i].Key = "second"
	}
	ss := &sender.SpoolingSender{Sender: newClient(t, sender.Options{Servers: []string{deadAddr(t)}, BatchSize: 10}), Spool: sp}
	if res, err := ss.Send(context.Background(), items); res.Spooled != 25 || err == nil {
		t.Fatalf("res %+v err %v, want 25 values spooled", res, err)
	}

	// The first replayed packet is answered with 2 failed values, the
	// second gets no answer: the answer is reported, its values consumed,
	// the rest stays in the spool and the new values join it.
	srv1 := startServer(t, nthRequest(map[int]sendertest.Reply{1: {Failed: 2}, 2: {Refuse: true, NoRecord: true}}))
	ss.Sender = newClient(t, sender.Options{Servers: []string{srv1.Addr}, BatchSize: 10})
	res, err := ss.Send(context.Background(), second)
	var spe *sender.SpooledError
	if !errors.As(err, &spe) || res.Spooled != 3 {
		t.Fatalf("res %+v err %v, want the new values spooled", res, err)
	}
	if rr := res.ReplayResult; rr.Processed != 8 || rr.Failed != 2 || rr.Total != 10 || res.ReplayRejected != 0 || res.Replay.Items != 10 {
		t.Fatalf("res %+v, want 8 processed, 2 failed, 10 replayed", res)
	}
	if d := sp.Depth(); d.Items != 18 {
		t.Fatalf("depth %+v, want 15 old + 3 new values", d)
	}

	// Replayed packets: 3 of 10 values failed, then 8 values rejected; the
	// new values are all processed.
	srv2 := startServer(t, nthRequest(map[int]sendertest.Reply{1: {Failed: 3}, 2: {Response: "failed", Info: "no"}}))
	ss.Sender = newClient(t, sender.Options{Servers: []string{srv2.Addr}, BatchSize: 10})
	res, err = ss.Send(context.Background(), fresh)
	if err != nil {
		t.Fatal(err)
	}
	if rr := res.ReplayResult; rr.Processed != 7 || rr.Failed != 3 || rr.Total != 10 || res.ReplayRejected != 8 {
		t.Fatalf("replay result %+v, rejected %d; want 7 processed, 3 failed, 10 total, 8 rejected", rr, res.ReplayRejected)
	}
	if res.Replay.Items != 18 || res.Replay.SendErrors != 1 || res.Processed != 2 || res.Failed != 0 || sp.Depth().Items != 0 {
		t.Fatalf("res %+v depth %+v", res, sp.Depth())
	}
	// Answered values are never sent again.
	if got := srv1.Items(); !reflect.DeepEqual(got, items[:10]) {
		t.Fatalf("first server got %d values, want the first 10", len(got))
	}
	want := append(append(append([]sender.Item{}, items[10:]...), second...), fresh...)
	if got := srv2.Items(); !reflect.DeepEqual(got, want) {
		t.Fatalf("second server got %d values, want %d once each in order", len(got), len(want))
	}

	// Nothing left to replay: nothing reported.
	res, err = ss.Send(context.Background(), fresh[:1])
	if err != nil || res.ReplayResult != (sender.Result{}) || res.ReplayRejected != 0 || res.Processed != 1 {
		t.Fatalf("res %+v err %v", res, err)
	}
}

// TestSpoolingSenderHeldValues spools values of items that a discovery spooled just before
// them is about to create, and replays them against a server that refuses the items it does
// not know yet: a refused held value stays in the spool (across a reopen) and is offered
// again after HoldRetry, until the server knows its item or HoldFor has passed since its first
// refusal, when it counts as refused.
func TestSpoolingSenderHeldValues(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	opts := sender.SpoolOptions{Now: func() time.Time { return now }, HoldFor: 10 * time.Minute, HoldRetry: 30 * time.Second}
	sp, err := sender.OpenSpool(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { sp.Close() }()
	ss := &sender.SpoolingSender{Sender: newClient(t, sender.Options{Servers: []string{deadAddr(t)}}), Spool: sp}
	plain, held := makeItems(4), makeItems(3)
	for i := range held {
		held[i].Key = fmt.Sprintf("moodle.new[%c]", 'a'+i)
	}
	if _, err := ss.Send(context.Background(), plain); err == nil {
		t.Fatal("sent to a dead address")
	}
	if res, err := ss.SendHeld(context.Background(), held); err == nil || res.Spooled != 3 {
		t.Fatalf("held values: res %+v err %v, want 3 spooled", res, err)
	}

	// The server knows only the items named in known; it refuses the others.
	known := map[string]bool{held[0].Key: true}
	srv := startServer(t, func(r sendertest.Request) sendertest.Reply {
		failed := 0
		for _, it := range r.Data {
			if strings.HasPrefix(it.Key, "moodle.new") && !known[it.Key] {
				failed++
			}
		}
		return sendertest.Reply{Failed: failed}
	})
	ss.Sender = newClient(t, sender.Options{Servers: []string{srv.Addr}})
	send := func(step string, wantReplayed, wantHeld, wantRefused, wantDepth int) {
		t.Helper()
		res, err := ss.Send(context.Background(), nil)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if res.Replay.Items != wantReplayed || res.Replay.Held != wantHeld || res.ReplayResult.Failed != wantRefused || sp.Depth().Items != wantDepth {
			t.Fatalf("%s: replayed %d, held %d, refused %d, depth %d; want %d, %d, %d, %d", step,
				res.Replay.Items, res.Replay.Held, res.ReplayResult.Failed, sp.Depth().Items, wantReplayed, wantHeld, wantRefused, wantDepth)
		}
	}
	send("first replay", 5, 2, 0, 2)
	if got := len(srv.Items()); got != 4+3 {
		t.Fatalf("first replay: server got %d values, want the 4 plain ones and the 3 held ones", got)
	}
	// Within HoldRetry of the refusal, the held values wait; a value spooled after them too.
	now = now.Add(10 * time.Second)
	late := makeItems(1)
	late[0].Key = "moodle.late"
	if err := sp.Append(late); err != nil {
		t.Fatal(err)
	}
	send("within HoldRetry", 0, 0, 0, 3)

	// The spool is reopened: the held record keeps its kind and its first refusal.
	sp.Close()
	if sp, err = sender.OpenSpool(dir, opts); err != nil {
		t.Fatal(err)
	}
	ss.Spool = sp
	now = now.Add(30 * time.Second)
	known[held[1].Key] = true
	send("after HoldRetry", 2, 1, 0, 1)

	// Past HoldFor since the first refusal, a refused held value counts as refused.
	now = now.Add(10 * time.Minute)
	send("past HoldFor", 1, 0, 1, 0)
	var keys []string
	for _, it := range srv.Items() {
		keys = append(keys, it.Key)
	}
	want := "moodle.k[0] moodle.k[1] moodle.k[2] moodle.k[3] moodle.new[a] moodle.new[b] moodle.new[c] moodle.new[b] moodle.new[c] moodle.late moodle.new[c]"
	if got := strings.Join(keys, " "); got != want {
		t.Fatalf("server got\n%s\nwant\n%s", got, want)
	}
}
