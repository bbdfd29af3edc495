package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// JobFunc is the work of one entry. fired is the time the run was scheduled
// for (not the time it actually started), so a job that derives a reporting
// window from it gets the same window however late it starts. ctx is
// cancelled when the scheduler stops.
type JobFunc func(ctx context.Context, fired time.Time) error

// ErrStopped is returned when an entry is added or triggered after the
// scheduler was stopped.
var ErrStopped = errors.New("scheduler stopped")

// ErrUnknownEntry is returned (wrapped with the name) for an entry name that
// was never added.
var ErrUnknownEntry = errors.New("unknown entry")

// maxSleep bounds how long the run loop sleeps between two looks at the wall
// clock, so that a clock step (NTP, suspend) delays a tick by at most this.
const maxSleep = time.Minute

// maxCatchUp bounds the number of missed ticks walked over after a long
// pause before the loop gives up counting them.
const maxCatchUp = 100000

// Options configures a Scheduler. The zero value is ready to use.
type Options struct {
	// Location is the time zone of entries added without one; nil means
	// time.Local.
	Location *time.Location
	// Logger receives job failures, panics and skipped ticks; nil discards.
	Logger *slog.Logger
}

// Outcome tells what a tick or a trigger did with an entry.
type Outcome int

const (
	// Started means the job was started.
	Started Outcome = iota
	// SkippedOverlap means the previous run of the entry was still going.
	SkippedOverlap
	// SkippedBackoff means the entry's Backoff asked for the tick to be skipped.
	SkippedBackoff
)

// String returns a lower-case name for the outcome.
func (o Outcome) String() string {
	switch o {
	case Started:
		return "started"
	case SkippedOverlap:
		return "skipped-overlap"
	case SkippedBackoff:
		return "skipped-backoff"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Run is one firing of an entry, as returned by Trigger.
type Run struct {
	// Entry is the entry name.
	Entry string
	// Fired is the scheduled time given to the job.
	Fired time.Time
	// Outcome tells whether the job was started or why it was skipped.
	Outcome Outcome

	done chan struct{}
	err  error
}

// Wait blocks until the run is over (at once for a skipped run) and returns
// the job's error; a panic is reported as an error.
func (r *Run) Wait() error {
	<-r.done
	return r.err
}

// EntryStats counts what happened to one entry.
type EntryStats struct {
	// Runs counts started jobs.
	Runs uint64
	// Failures counts jobs that returned an error or panicked.
	Failures uint64
	// Panics counts jobs that panicked (also counted in Failures).
	Panics uint64
	// SkippedOverlap counts ticks skipped because the previous run was going.
	SkippedOverlap uint64
	// SkippedBackoff counts ticks skipped by the entry's Backoff.
	SkippedBackoff uint64
	// Missed counts ticks that passed while the scheduler could not fire
	// (machine suspended, clock stepped forward); only the latest of a run of
	// missed ticks is fired.
	Missed uint64
	// Running reports whether a job of the entry is running now.
	Running bool
	// LastFired is the scheduled time of the latest started run.
	LastFired time.Time
	// LastError is the error of the latest finished run, empty on success.
	LastError string
}

// EntryInfo describes a scheduled entry.
type EntryInfo struct {
	// Name is the entry name given to Add.
	Name string
	// Spec is the cron specification.
	Spec string
	// Location is the time zone the specification is evaluated in.
	Location *time.Location
	// Next is the next scheduled fire time, zero before Start.
	Next time.Time
}

type entry struct {
	name    string
	spec    string
	loc     *time.Location
	sched   cron.Schedule
	job     JobFunc
	backoff *Backoff
	next    time.Time
	stats   EntryStats
}

// Scheduler fires named entries on their cron specifications. Runs of
// different entries go concurrently; a tick that comes while the previous run
// of the same entry is still going is skipped and counted.
type Scheduler struct {
	loc *time.Location
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	order   []*entry
	started bool
	ctx     context.Context // parent of every job context; cancelled by Stop
	cancel  context.CancelFunc
	wake    chan struct{}
	runs    sync.WaitGroup
	loop    sync.WaitGroup
}

// New returns a scheduler with no entries; it fires nothing before Start.
func New(opts Options) *Scheduler {
	s := &Scheduler{
		loc:     opts.Location,
		log:     opts.Logger,
		now:     time.Now,
		entries: make(map[string]*entry),
		wake:    make(chan struct{}, 1),
	}
	if s.loc == nil {
		s.loc = time.Local
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Add schedules job under name with the cron specification spec evaluated
// in loc (the scheduler's Location when nil; a CRON_TZ= prefix in spec wins
// over both). Names must be unique.
func (s *Scheduler) Add(name, spec string, loc *time.Location, job JobFunc) error {
	return s.add(name, spec, loc, nil, job)
}

// AddWithBackoff is Add with a Backoff: after failures, ticks of the entry
// are skipped as b decides. b is copied; its state starts afresh.
func (s *Scheduler) AddWithBackoff(name, spec string, loc *time.Location, b Backoff, job JobFunc) error {
	fresh := Backoff{After: b.After, Max: b.Max}
	return s.add(name, spec, loc, &fresh, job)
}

func (s *Scheduler) add(name, spec string, loc *time.Location, b *Backoff, job JobFunc) error {
	if name == "" {
		return errors.New("scheduler: entry with an empty name")
	}
	if job == nil {
		return fmt.Errorf("scheduler: entry %s: nil job", name)
	}
	sched, err := parse(spec)
	if err != nil {
		return fmt.Errorf("scheduler: entry %s: %w", name, err)
	}
	if loc == nil {
		loc = s.loc
	}
	e := &entry{name: name, spec: spec, loc: loc, sched: sched, job: job, backoff: b}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return fmt.Errorf("scheduler: entry %s: %w", name, ErrStopped)
	}
	if _, dup := s.entries[name]; dup {
		return fmt.Errorf("scheduler: entry %s: already added", name)
	}
	s.entries[name] = e
	s.order = append(s.order, e)
	if s.started {
		e.next = e.sched.Next(s.now().In(e.loc))
		s.poke()
	}
	return nil
}

// Next returns the first fire time of the named entry after after.
func (s *Scheduler) Next(name string, after time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[name]
	if !ok {
		return time.Time{}, fmt.Errorf("scheduler: entry %s: %w", name, ErrUnknownEntry)
	}
	return e.sched.Next(after.In(e.loc)), nil
}

// Entries describes the entries in the order they were added.
func (s *Scheduler) Entries() []EntryInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EntryInfo, 0, len(s.order))
	for _, e := range s.order {
		out = append(out, EntryInfo{Name: e.name, Spec: e.spec, Location: e.loc, Next: e.next})
	}
	return out
}

// Stats returns a snapshot of the counters of every entry, keyed by name.
func (s *Scheduler) Stats() map[string]EntryStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]EntryStats, len(s.entries))
	for name, e := range s.entries {
		out[name] = e.stats
	}
	return out
}

// Start begins firing entries in the background and returns at once. Jobs
// get contexts that are cancelled by Stop or when ctx is done; once ctx is
// done nothing fires any more, but only Stop waits for running jobs.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return ErrStopped
	}
	if s.started {
		return errors.New("scheduler: already started")
	}
	s.started = true
	context.AfterFunc(ctx, s.cancel)
	now := s.now()
	for _, e := range s.order {
		e.next = e.sched.Next(now.In(e.loc))
	}
	s.loop.Add(1)
	go s.run()
	return nil
}

// Stop stops firing, cancels the contexts of running jobs and returns a
// context that is done once every running job has returned. Calling Stop
// again is harmless.
func (s *Scheduler) Stop() context.Context {
	s.cancel()
	s.loop.Wait() // no new run can start once the loop is gone
	ctx, done := context.WithCancel(context.Background())
	go func() {
		s.runs.Wait()
		done()
	}()
	return ctx
}

// Trigger fires the named entry now, as a tick scheduled at fired would:
// the same overlap and backoff rules apply and the outcome is counted. It
// lets a test or an operator run an entry without waiting for its time.
func (s *Scheduler) Trigger(name string, fired time.Time) (*Run, error) {
	s.mu.Lock()
	e, ok := s.entries[name]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("scheduler: entry %s: %w", name, ErrUnknownEntry)
	}
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("scheduler: entry %s: %w", name, ErrStopped)
	}
	r := s.fireLocked(e, fired)
	s.mu.Unlock()
	return r, nil
}

// poke wakes the run loop so that it looks at the entries again.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run is the loop that fires due entries.
func (s *Scheduler) run() {
	defer s.loop.Done()
	timer := time.NewTimer(maxSleep)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			return
		}
		now := s.now()
		sleep := maxSleep
		for _, e := range s.order {
			if e.next.IsZero() {
				continue
			}
			if !e.next.After(now) {
				s.tickLocked(e, now)
			}
			if e.next.IsZero() {
				continue
			}
			if d := e.next.Sub(now); d < sleep {
				sleep = d
			}
		}
		s.mu.Unlock()

		timer.Reset(sleep)
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// tickLocked fires e, which is due at now: the latest scheduled time not
// after now is fired and older missed ones are counted.
func (s *Scheduler) tickLocked(e *entry, now time.Time) {
	fired := e.next
	var missed uint64
	for n := e.sched.Next(fired); !n.IsZero() && !n.After(now) && missed < maxCatchUp; n = e.sched.Next(n) {
		fired = n
		missed++
	}
	if missed > 0 {
		e.stats.Missed += missed
		s.log.Warn("scheduler missed ticks", "entry", e.name, "missed", missed, "fired", fired)
	}
	s.fireLocked(e, fired)
	e.next = e.sched.Next(now.In(e.loc))
}

// fireLocked applies the overlap and backoff rules and starts the job.
func (s *Scheduler) fireLocked(e *entry, fired time.Time) *Run {
	r := &Run{Entry: e.name, Fired: fired, done: make(chan struct{})}
	switch {
	case e.stats.Running:
		r.Outcome = SkippedOverlap
		e.stats.SkippedOverlap++
		s.log.Warn("scheduler skipped tick: previous run still going",
			"entry", e.name, "fired", fired, "last_fired", e.stats.LastFired)
	case e.backoff != nil && e.backoff.Skip():
		r.Outcome = SkippedBackoff
		e.stats.SkippedBackoff++
		s.log.Warn("scheduler skipped tick: backing off after failures",
			"entry", e.name, "fired", fired, "failures", e.backoff.Failures())
	default:
		r.Outcome = Started
		e.stats.Running = true
		e.stats.Runs++
		e.stats.LastFired = fired
		s.runs.Add(1)
		go s.execute(s.ctx, e, r)
		return r
	}
	close(r.done)
	return r
}

// execute runs the job of e, recovers a panic, records the outcome and logs
// any failure.
func (s *Scheduler) execute(ctx context.Context, e *entry, r *Run) {
	defer s.runs.Done()
	stack, err := call(ctx, e.job, r.Fired)

	s.mu.Lock()
	e.stats.Running = false
	e.stats.LastError = ""
	skips := 0
	if err != nil {
		e.stats.Failures++
		e.stats.LastError = err.Error()
		if stack != nil {
			e.stats.Panics++
		}
		if e.backoff != nil {
			skips = e.backoff.Failure()
		}
	} else if e.backoff != nil {
		e.backoff.Success()
	}
	s.mu.Unlock()

	switch {
	case stack != nil:
		s.log.Error("scheduled job panicked", "entry", e.name, "fired", r.Fired,
			"err", err, "skip_ticks", skips, "stack", string(stack))
	case err != nil:
		s.log.Error("scheduled job failed", "entry", e.name, "fired", r.Fired,
			"err", err, "skip_ticks", skips)
	}
	r.err = err
	close(r.done)
}

// call runs job and turns a panic into an error, returning the stack too.
func call(ctx context.Context, job JobFunc, fired time.Time) (stack []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
			stack = debug.Stack()
		}
	}()
	return nil, job(ctx, fired)
}
