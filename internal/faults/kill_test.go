package faults

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// buildBinary builds cmd/moodle-zabbix once into dir and returns its path.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mz")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/moodle-zabbix")
	cmd.Dir = ztest.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// valueID identifies one value as Zabbix does: a duplicate (host, key, clock, ns) is one value
// sent twice.
type valueID struct {
	host, key string
	clock, ns int64
}

// receipt is one arrival of a value at the trapper.
type receipt struct {
	iter int // the iteration whose process sent it
	seq  int // the order of its request across the whole test
}

// killIteration is one start of the binary.
type killIteration struct {
	refuse  bool      // the trapper closed connections without answering
	killed  bool      // the process was killed with SIGKILL
	exit    int       // its exit status when it ended by itself
	clock   int64     // the clock of the values it computes (its instant window)
	stdout  string    // what it printed (cut short by a kill)
	stderr  string    // its log
	spooled int       // "spooled N" when it ended by itself
	sent    int       // "sent N" when it ended by itself
	started time.Time // when it was started
	ended   time.Time // when it was seen to end
}

// trapped is one request the trapper recorded.
type trapped struct {
	seq   int
	at    time.Time // the request's timestamp, set by the sender
	items []sender.Item
}

var (
	reSpooled = regexp.MustCompile(`spooled (\d+)`)
	reSent    = regexp.MustCompile(`; sent (\d+) \(`)
)

// TestKillDuringSends kills the binary with SIGKILL while it sends, in a loop: the trapper
// (in this process) answers each packet after a random delay, or refuses whole iterations so
// that values are spooled and later replayed. Each iteration runs the instant family for a
// different minute, so its values have their own clock. At the end a healthy run replays
// the spool. Nothing acknowledged (answered, or reported spooled) may be lost, no value may
// arrive twice unless the process that sent it first was killed before it could record the
// delivery, and the spool must reopen cleanly and be empty.
func TestKillDuringSends(t *testing.T) {
	const (
		iterations = 30
		budget     = 60 * time.Second // the loop stops early past this
	)
	now := time.Now().Truncate(time.Minute)
	dsn, db := tempDSN(t, "mysql")
	loadFixture(t, db, "mysql", 21, now)
	dir := t.TempDir()
	bin := buildBinary(t, dir)

	seed := time.Now().UnixNano()
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d7a))

	var (
		mu        sync.Mutex
		refusing  bool
		requests  []trapped // recorded requests, in arrival order
		delayRng  = rand.New(rand.NewPCG(uint64(seed), 0x7472))
		firstReq  = make(chan struct{}) // closed at the first request of the current iteration
		firstSeen bool
	)
	trapper := sendertest.NewServer(func(req sendertest.Request) sendertest.Reply {
		mu.Lock()
		defer mu.Unlock()
		if !firstSeen {
			firstSeen = true
			close(firstReq)
		}
		if refusing {
			return sendertest.Reply{Refuse: true, NoRecord: true}
		}
		// The request's own timestamp says which process sent it, even when a killed
		// process's last packet is read after the next iteration has started.
		requests = append(requests, trapped{seq: len(requests) + 1, at: time.Unix(req.Clock, req.NS), items: req.Data})
		return sendertest.Reply{Delay: time.Duration(delayRng.IntN(150)) * time.Millisecond}
	})
	defer trapper.Close()

	spoolDir := filepath.Join(dir, "spool")
	cfgPath := writeFile(t, dir, "config.yaml", fmt.Sprintf(`zabbix:
  servers: ["%s"]
  timeout: 5s
  batch_size: 4
  spool: {dir: %s}
sites:
  - {name: killed, host: mz-fault-kill, driver: mysql, dsn: "env:MZ_FAULT_DSN"}
`, trapper.Addr, spoolDir))

	run := func(i int, at time.Time, kill func(p *os.Process, exited <-chan struct{})) *killIteration {
		it := &killIteration{started: time.Now(), clock: measures.WindowFor(measures.Instant, at, time.UTC).Clock().Unix()}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, "run", "-v", "--family", "instant", "--at", at.UTC().Format(time.RFC3339), "--config", cfgPath)
		cmd.Env = append(os.Environ(), "MZ_FAULT_DSN="+dsn)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		exited := make(chan struct{})
		if kill != nil {
			go kill(cmd.Process, exited)
		}
		var err error
		select {
		case err = <-done:
			close(exited)
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("iteration %d: the process did not end within 30 s", i)
		}
		it.ended = time.Now()
		it.killed = isKilled(err)
		it.stdout, it.stderr = stdout.String(), stderr.String()
		if !it.killed {
			var ee *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &ee):
				it.exit = ee.ExitCode()
			default:
				t.Fatalf("iteration %d: %v", i, err)
			}
			if m := reSpooled.FindStringSubmatch(it.stdout); m != nil {
				it.spooled, _ = strconv.Atoi(m[1])
			}
			if m := reSent.FindStringSubmatch(it.stdout); m != nil {
				// Values handed over: answered by Zabbix or kept in the spool.
				sent, _ := strconv.Atoi(m[1])
				it.sent = sent + it.spooled
			}
		}
		return it
	}

	var its []*killIteration
	begin := time.Now()
	kills := 0
	for i := 0; i < iterations && time.Since(begin) < budget; i++ {
		at := now.Add(-time.Duration(iterations+5-i) * time.Minute)
		refuse := rng.IntN(10) < 3
		mode := rng.IntN(10) // 0-1: kill at a random early moment, 2-7: kill mid-send, 8-9: no kill
		if i == 1 {
			// One refusing run is never killed, so that the spool's append is reported and
			// replayed whatever the seed (a refusing run is otherwise left alone 6% of the time).
			refuse, mode = true, 9
		}
		wait := time.Duration(rng.IntN(400)) * time.Millisecond
		if refuse {
			// Refused sends fail at once: kill within the append (or the replay) that follows.
			wait = time.Duration(rng.IntN(8000)) * time.Microsecond
		}
		early := time.Duration(rng.IntN(40)) * time.Millisecond
		mu.Lock()
		refusing = refuse
		firstReq, firstSeen = make(chan struct{}), false
		mu.Unlock()
		var kill func(p *os.Process, exited <-chan struct{})
		switch {
		case mode < 2:
			kill = func(p *os.Process, exited <-chan struct{}) {
				select {
				case <-exited:
				case <-time.After(early):
					_ = p.Signal(syscall.SIGKILL)
				}
			}
		case mode < 8:
			first := firstReq
			kill = func(p *os.Process, exited <-chan struct{}) {
				select {
				case <-exited:
					return
				case <-first:
				}
				select {
				case <-exited:
				case <-time.After(wait):
					_ = p.Signal(syscall.SIGKILL)
				}
			}
		}
		it := run(i, at, kill)
		it.refuse = refuse
		if it.killed {
			kills++
		}
		its = append(its, it)
		t.Logf("iteration %2d: refuse=%-5v killed=%-5v exit=%d spooled=%d %s", i, refuse, it.killed, it.exit,
			it.spooled, firstLine(it.stdout))
	}

	// A healthy trapper, answering at once: the last run replays whatever is left.
	mu.Lock()
	refusing = false
	final := now.Add(-2 * time.Minute)
	mu.Unlock()
	last := run(len(its), final, nil)
	if last.exit != 0 {
		t.Fatalf("final run: exit %d\n%s\n%s", last.exit, last.stdout, last.stderr)
	}
	t.Logf("final run: %s", firstLine(last.stdout))
	its = append(its, last)

	mu.Lock()
	defer mu.Unlock()
	received := map[valueID][]receipt{}
	ownClockSeq := map[int]int{} // the first request of an iteration that carried its own values
	for _, r := range requests {
		i := slices.IndexFunc(its, func(it *killIteration) bool { return !r.at.Before(it.started) && !r.at.After(it.ended) })
		if i < 0 {
			t.Fatalf("request %d at %s was sent by no iteration", r.seq, r.at)
		}
		for _, it := range r.items {
			id := valueID{it.Host, it.Key, it.Clock, it.NS}
			received[id] = append(received[id], receipt{iter: i, seq: r.seq})
			if _, ok := ownClockSeq[i]; !ok && it.Clock == its[i].clock {
				ownClockSeq[i] = r.seq
			}
		}
	}
	// Nothing received twice, unless the first copy was a replay by a process killed before
	// it could save its progress (it had not yet sent its own values): the spool then hands
	// the values out again, and Zabbix drops them as duplicates of (item, clock, ns).
	duplicates, redelivered := 0, 0
	for id, rs := range received {
		if len(rs) < 2 {
			continue
		}
		for _, r := range rs[:len(rs)-1] {
			first := its[r.iter]
			own, sentOwn := ownClockSeq[r.iter]
			replay := id.clock != first.clock
			if first.killed && replay && (!sentOwn || own > r.seq) {
				redelivered++
				continue
			}
			duplicates++
			t.Errorf("value %s @%d.%09d received %d times (first by iteration %d, killed=%v, replay=%v)",
				id.key, id.clock, id.ns, len(rs), r.iter, first.killed, replay)
		}
	}
	// Every value acknowledged to a process that ended by itself arrived: answered, or
	// reported spooled and replayed later.
	byClock := map[int64]int{}
	for id := range received {
		byClock[id.clock]++
	}
	lost, spooledReplayed, acknowledged := 0, 0, 0
	killedArrived := 0
	for i, it := range its {
		if it.killed {
			killedArrived += byClock[it.clock]
			continue
		}
		if it.sent == 0 {
			t.Errorf("iteration %d (exit %d) did not report what it sent:\n%s\n%s", i, it.exit, it.stdout, it.stderr)
			continue
		}
		acknowledged += it.sent
		if it.spooled > 0 {
			spooledReplayed += it.spooled
		}
		if got := byClock[it.clock]; got != it.sent {
			lost += max(0, it.sent-got)
			t.Errorf("iteration %d (refuse=%v, exit %d): sent %d values, %d arrived:\n%s", i, it.refuse, it.exit, it.sent, got, it.stdout)
		}
		if it.refuse && (it.exit != 1 || it.spooled != it.sent) {
			t.Errorf("iteration %d: the trapper refused everything, but exit %d and %d of %d values spooled:\n%s",
				i, it.exit, it.spooled, it.sent, it.stdout)
		}
	}
	if spooledReplayed == 0 {
		t.Errorf("no iteration reported spooled values: the refusing trapper was never exercised")
	}
	if kills == 0 {
		t.Errorf("no iteration was killed")
	}

	// The spool reopens without error and is empty.
	checkSpoolEmpty(t, spoolDir)
	torn := 0
	for _, it := range its {
		torn += strings.Count(it.stderr, "torn or corrupt tail cut off") + strings.Count(it.stderr, "unreadable record dropped")
	}
	figures(t, "kill-9", "iterations", len(its)-1, "kills", kills, "refusing", countRefusing(its),
		"sent", acknowledged, "found", acknowledged-lost, "received", len(received), "from_killed", killedArrived,
		"spooled_replayed", spooledReplayed, "redelivered_after_kill", redelivered, "torn_records", torn,
		"lost", lost, "duplicates", duplicates)
}

func countRefusing(its []*killIteration) int {
	n := 0
	for _, it := range its {
		if it.refuse {
			n++
		}
	}
	return n
}

// isKilled reports whether a process ended by SIGKILL.
func isKilled(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
