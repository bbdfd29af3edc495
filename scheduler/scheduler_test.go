package scheduler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zoneinfo
)

// guard bounds how long a test waits for something that must happen; it is a
// safety net against a hung test, never a measure of speed.
const guard = 30 * time.Second

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func newLogged(t *testing.T) (*Scheduler, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	s := New(Options{Location: time.UTC, Logger: slog.New(slog.NewTextHandler(buf, nil))})
	t.Cleanup(func() { <-s.Stop().Done() })
	return s, buf
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func waitRun(t *testing.T, r *Run) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- r.Wait() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(guard):
		t.Fatalf("run of %s never finished", r.Entry)
		return nil
	}
}

func TestValidateSpec(t *testing.T) {
	good := []string{"@daily", "@every 90s", "CRON_TZ=Europe/Paris 5 0 * * *", " 7 * * * * ", "0 0 29 2 *"}
	for _, fam := range Families {
		good = append(good, DefaultSpecs[fam])
	}
	for _, spec := range good {
		if err := ValidateSpec(spec); err != nil {
			t.Errorf("ValidateSpec(%q) = %v, want nil", spec, err)
		}
	}
	bad := []struct{ spec, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"* * * *", "expected exactly 5 fields"},
		{"* * * * * *", "expected exactly 5 fields"},
		{"61 * * * *", "above maximum"},
		{"*/0 * * * *", "step"},
		{"0 0 30 2 *", "never fires"},
		{"CRON_TZ=Europe/Paris", "malformed"},
		{"CRON_TZ=Nowhere/Atlantis 5 0 * * *", "bad location"},
		{"@fortnightly", "unrecognized descriptor"},
		{"a b c d e", "failed to parse"},
	}
	for _, tc := range bad {
		err := ValidateSpec(tc.spec)
		if err == nil {
			t.Errorf("ValidateSpec(%q) = nil, want an error", tc.spec)
			continue
		}
		if !strings.Contains(err.Error(), `"`+tc.spec+`"`) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateSpec(%q) = %q, want the quoted spec and %q", tc.spec, err, tc.want)
		}
	}
}

func TestDefaultSpecsCoverFamilies(t *testing.T) {
	if len(DefaultSpecs) != len(Families) {
		t.Fatalf("%d default specs for %d families", len(DefaultSpecs), len(Families))
	}
	for _, f := range Families {
		if !IsFamily(f) {
			t.Errorf("IsFamily(%q) = false", f)
		}
	}
	if IsFamily("yearly") {
		t.Error(`IsFamily("yearly") = true`)
	}
}

func TestNextTimeZone(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	tokyo := mustLoad(t, "Asia/Tokyo")
	tests := []struct {
		name  string
		spec  string
		loc   *time.Location
		after time.Time
		want  time.Time
	}{
		{"winter daily", "5 0 * * *", paris, time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2024, 1, 15, 23, 5, 0, 0, time.UTC)},
		{"summer daily", "5 0 * * *", paris, time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC), time.Date(2024, 7, 15, 22, 5, 0, 0, time.UTC)},
		{"weekly on monday", "5 0 * * 1", paris, time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 14, 23, 5, 0, 0, time.UTC)},
		{"monthly", "10 0 1 * *", paris, time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 31, 22, 10, 0, 0, time.UTC)},
		{"utc daily", "5 0 * * *", time.UTC, time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2024, 1, 16, 0, 5, 0, 0, time.UTC)},
		{"CRON_TZ wins", "CRON_TZ=Asia/Tokyo 5 0 * * *", paris, time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2024, 1, 16, 0, 5, 0, 0, tokyo)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{})
			if err := s.Add("e", tc.spec, tc.loc, func(context.Context, time.Time) error { return nil }); err != nil {
				t.Fatal(err)
			}
			got, err := s.Next("e", tc.after)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Next = %v, want %v", got, tc.want.UTC())
			}
			free, err := Next(tc.spec, tc.loc, tc.after)
			if err != nil || !free.Equal(tc.want) {
				t.Errorf("package Next = %v, %v; want %v", free, err, tc.want.UTC())
			}
		})
	}
}

func TestAddErrors(t *testing.T) {
	s := New(Options{})
	noop := func(context.Context, time.Time) error { return nil }
	if err := s.Add("a", "* * * * *", nil, noop); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, spec string
		job        JobFunc
		want       string
	}{
		{"a", "* * * * *", noop, "entry a: already added"},
		{"", "* * * * *", noop, "empty name"},
		{"b", "* * * * *", nil, "entry b: nil job"},
		{"c", "nope", noop, `entry c: cron spec "nope"`},
	}
	for _, tc := range tests {
		err := s.Add(tc.name, tc.spec, nil, tc.job)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%q, %q) = %v, want an error with %q", tc.name, tc.spec, err, tc.want)
		}
	}
	if _, err := s.Trigger("zzz", time.Now()); !errors.Is(err, ErrUnknownEntry) {
		t.Errorf("Trigger of an unknown entry = %v, want ErrUnknownEntry", err)
	}
}

func TestOverlapSkipped(t *testing.T) {
	s, logs := newLogged(t)
	release := make(chan struct{})
	started := make(chan time.Time, 4)
	slow := func(ctx context.Context, fired time.Time) error {
		started <- fired
		<-release
		return nil
	}
	if err := s.Add("slow", "* * * * *", nil, slow); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	first, err := s.Trigger("slow", t0)
	if err != nil || first.Outcome != Started {
		t.Fatalf("first trigger: %v, %v", first, err)
	}
	<-started
	second, err := s.Trigger("slow", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if second.Outcome != SkippedOverlap {
		t.Fatalf("second trigger outcome = %v, want %v", second.Outcome, SkippedOverlap)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("skipped run Wait = %v", err)
	}
	st := s.Stats()["slow"]
	if st.SkippedOverlap != 1 || st.Runs != 1 || !st.Running {
		t.Errorf("stats while running = %+v", st)
	}
	close(release)
	if err := waitRun(t, first); err != nil {
		t.Fatal(err)
	}
	third, err := s.Trigger("slow", t0.Add(2*time.Minute))
	if err != nil || third.Outcome != Started {
		t.Fatalf("third trigger: %v, %v", third, err)
	}
	if got := <-started; !got.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("job fired with %v, want the scheduled time %v", got, t0.Add(2*time.Minute))
	}
	waitRun(t, third)
	st = s.Stats()["slow"]
	if st.SkippedOverlap != 1 || st.Runs != 2 || st.Running {
		t.Errorf("final stats = %+v", st)
	}
	if !strings.Contains(logs.String(), "entry=slow") || !strings.Contains(logs.String(), "previous run still going") {
		t.Errorf("overlap not logged with the entry name:\n%s", logs)
	}
}

func TestEntriesRunConcurrently(t *testing.T) {
	s := New(Options{})
	defer s.Stop()
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	job := func(ctx context.Context, _ time.Time) error {
		arrived.Done()
		select {
		case <-both: // only reached if the other entry runs at the same time
			return nil
		case <-time.After(guard):
			return errors.New("the other entry never ran alongside")
		}
	}
	for _, name := range []string{"a", "b"} {
		if err := s.Add(name, "* * * * *", nil, job); err != nil {
			t.Fatal(err)
		}
	}
	ra, _ := s.Trigger("a", time.Now())
	rb, _ := s.Trigger("b", time.Now())
	if err := waitRun(t, ra); err != nil {
		t.Error(err)
	}
	if err := waitRun(t, rb); err != nil {
		t.Error(err)
	}
}

func TestPanicRecovered(t *testing.T) {
	s, logs := newLogged(t)
	calls := 0
	if err := s.Add("boom", "* * * * *", nil, func(context.Context, time.Time) error {
		calls++
		if calls == 1 {
			panic("kaboom")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Trigger("boom", time.Now())
	err := waitRun(t, r)
	if err == nil || !strings.Contains(err.Error(), "panic: kaboom") {
		t.Fatalf("Wait after a panic = %v", err)
	}
	st := s.Stats()["boom"]
	if st.Panics != 1 || st.Failures != 1 || st.Running || !strings.Contains(st.LastError, "kaboom") {
		t.Errorf("stats after panic = %+v", st)
	}
	out := logs.String()
	for _, want := range []string{"scheduled job panicked", "entry=boom", "kaboom", "stack="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	r, _ = s.Trigger("boom", time.Now())
	if err := waitRun(t, r); err != nil {
		t.Errorf("run after the panic = %v", err)
	}
	if st := s.Stats()["boom"]; st.Runs != 2 || st.LastError != "" {
		t.Errorf("stats after recovery = %+v", st)
	}
}

func TestJobErrorLogged(t *testing.T) {
	s, logs := newLogged(t)
	if err := s.Add("site main/daily", "5 0 * * *", nil, func(context.Context, time.Time) error {
		return errors.New("database unreachable")
	}); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Trigger("site main/daily", time.Now())
	if err := waitRun(t, r); err == nil {
		t.Fatal("want the job error from Wait")
	}
	out := logs.String()
	if !strings.Contains(out, `entry="site main/daily"`) || !strings.Contains(out, "database unreachable") {
		t.Errorf("error not logged with its entry:\n%s", out)
	}
}

func TestBackoffSequence(t *testing.T) {
	tests := []struct {
		name   string
		b      Backoff
		events string // f = failure, s = success
		want   []int  // ticks to skip after each failure
	}{
		{"zero value", Backoff{}, "fffffff", []int{1, 2, 4, 8, 16, 32, 32}},
		{"after three, max five", Backoff{After: 3, Max: 5}, "ffffff", []int{0, 0, 1, 2, 4, 5}},
		{"success resets", Backoff{After: 1, Max: 8}, "fffsff", []int{1, 2, 4, 1, 2}},
		{"many failures do not overflow", Backoff{Max: 1 << 40}, strings.Repeat("f", 80), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.b
			var got []int
			for _, ev := range tc.events {
				if ev == 's' {
					b.Success()
					if b.Skip() || b.Failures() != 0 {
						t.Fatal("Success did not reset")
					}
					continue
				}
				n := b.Failure()
				if n < 0 || (tc.b.Max > 0 && n > tc.b.Max) {
					t.Fatalf("Failure() = %d out of range", n)
				}
				got = append(got, n)
				for i := 0; i < n && i < 100; i++ {
					if !b.Skip() {
						t.Fatalf("Skip() false at %d of %d", i, n)
					}
				}
				if n <= 100 && b.Skip() {
					t.Fatalf("Skip() true after %d skips", n)
				}
			}
			if tc.want != nil && !equalInts(got, tc.want) {
				t.Errorf("skips = %v, want %v", got, tc.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBackoffInScheduler(t *testing.T) {
	s, logs := newLogged(t)
	// The job fails on its first three runs, then succeeds.
	runs := 0
	if err := s.AddWithBackoff("flaky", "* * * * *", nil, Backoff{After: 1, Max: 2}, func(context.Context, time.Time) error {
		runs++
		if runs <= 3 {
			return errors.New("zabbix down")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// run(fail) skip run(fail) skip skip run(fail) skip skip run(ok) run(ok)
	want := "RSRSSRSSRR"
	var got strings.Builder
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range len(want) {
		r, err := s.Trigger("flaky", t0.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		waitRun(t, r)
		switch r.Outcome {
		case Started:
			got.WriteByte('R')
		case SkippedBackoff:
			got.WriteByte('S')
		default:
			got.WriteByte('?')
		}
	}
	if got.String() != want {
		t.Errorf("outcomes = %s, want %s", got.String(), want)
	}
	st := s.Stats()["flaky"]
	if st.SkippedBackoff != 5 || st.Failures != 3 || st.Runs != 5 {
		t.Errorf("stats = %+v", st)
	}
	if !strings.Contains(logs.String(), "backing off") {
		t.Errorf("backoff skips not logged:\n%s", logs)
	}
}

func TestStopCancelsAndWaits(t *testing.T) {
	s := New(Options{})
	noop := func(context.Context, time.Time) error { return nil }
	inJob := make(chan struct{})
	proceed := make(chan struct{})
	if err := s.Add("long", "* * * * *", nil, func(ctx context.Context, _ time.Time) error {
		close(inJob)
		<-ctx.Done()
		<-proceed
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	r, err := s.Trigger("long", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	<-inJob
	done := s.Stop()
	select {
	case <-done.Done():
		t.Fatal("Stop's context done while a job is still running")
	default:
	}
	close(proceed)
	if err := waitRun(t, r); !errors.Is(err, context.Canceled) {
		t.Errorf("job error = %v, want context.Canceled", err)
	}
	select {
	case <-done.Done():
	case <-time.After(guard):
		t.Fatal("Stop's context never done")
	}
	if _, err := s.Trigger("long", time.Now()); !errors.Is(err, ErrStopped) {
		t.Errorf("Trigger after Stop = %v, want ErrStopped", err)
	}
	if err := s.Add("late", "* * * * *", nil, noop); !errors.Is(err, ErrStopped) {
		t.Errorf("Add after Stop = %v, want ErrStopped", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop = %v, want ErrStopped", err)
	}
	s.Stop() // harmless
}

// fakeClock is a settable clock for the run loop.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// TestLoopFiresScheduledTime drives the real run loop with a fake clock: the
// job must receive the scheduled time in the entry's zone, and ticks missed
// during a pause are counted with only the latest one fired.
func TestLoopFiresScheduledTime(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	clock := &fakeClock{t: time.Date(2024, 1, 15, 22, 0, 0, 0, time.UTC)} // 23:00 in Paris
	s := New(Options{Location: paris})
	s.now = clock.now
	fired := make(chan time.Time, 8)
	if err := s.Add("daily", DefaultSpecs["daily"], nil, func(_ context.Context, f time.Time) error {
		fired <- f
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	wantNext := time.Date(2024, 1, 16, 0, 5, 0, 0, paris)
	if got := s.Entries()[0].Next; !got.Equal(wantNext) {
		t.Fatalf("next after Start = %v, want %v", got, wantNext)
	}

	// Ninety seconds late: the job still gets 00:05 Paris time.
	clock.set(wantNext.Add(90 * time.Second))
	s.poke()
	got := receive(t, fired)
	if !got.Equal(wantNext) || got.Location() != paris {
		t.Errorf("fired = %v, want %v in Europe/Paris", got, wantNext)
	}

	// Three days pass unseen: two ticks are missed, the latest is fired.
	wantNext = time.Date(2024, 1, 17, 0, 5, 0, 0, paris)
	waitNext(t, s, wantNext)
	clock.set(time.Date(2024, 1, 19, 12, 0, 0, 0, paris))
	s.poke()
	got = receive(t, fired)
	if want := time.Date(2024, 1, 19, 0, 5, 0, 0, paris); !got.Equal(want) {
		t.Errorf("fired after a pause = %v, want %v", got, want)
	}
	waitNext(t, s, time.Date(2024, 1, 20, 0, 5, 0, 0, paris))
	if st := s.Stats()["daily"]; st.Missed != 2 || st.Runs != 2 {
		t.Errorf("stats = %+v, want 2 missed and 2 runs", st)
	}
}

func receive(t *testing.T, ch <-chan time.Time) time.Time {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatal("the loop never fired the entry")
		return time.Time{}
	}
}

// waitNext waits until the loop has moved the only entry's next fire time.
func waitNext(t *testing.T, s *Scheduler, want time.Time) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for time.Now().Before(deadline) {
		if got := s.Entries()[0].Next; got.Equal(want) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("next fire time never became %v (is %v)", want, s.Entries()[0].Next)
}
