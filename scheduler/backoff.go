package scheduler

// DefaultBackoffMax is the longest run of skipped ticks a Backoff with a zero
// Max allows.
const DefaultBackoffMax = 32

// Backoff decides which ticks of a failing entry are skipped. After After
// consecutive failures the next tick is skipped; each further consecutive
// failure doubles the number of ticks skipped (1, 2, 4 ...) up to Max. A
// success resets it. The zero value starts skipping after the first failure
// and skips at most DefaultBackoffMax ticks in a row.
//
// A Backoff is not safe for concurrent use; the Scheduler guards the ones it
// holds.
type Backoff struct {
	// After is the number of consecutive failures tolerated before ticks are
	// skipped; zero or less means 1.
	After int
	// Max caps the number of ticks skipped in a row; zero or less means
	// DefaultBackoffMax.
	Max int

	failures int // consecutive failures so far
	pending  int // ticks still to skip
}

// Failure records a failed run and returns how many of the coming ticks will
// be skipped.
func (b *Backoff) Failure() int {
	b.failures++
	after := b.After
	if after <= 0 {
		after = 1
	}
	limit := b.Max
	if limit <= 0 {
		limit = DefaultBackoffMax
	}
	b.pending = 0
	if n := b.failures - after; n >= 0 {
		b.pending = limit
		if n < 30 && 1<<n < limit {
			b.pending = 1 << n
		}
	}
	return b.pending
}

// Success records a successful run and clears any pending skips.
func (b *Backoff) Success() {
	b.failures = 0
	b.pending = 0
}

// Skip is called on each tick and reports whether that tick must be skipped;
// a skipped tick uses up one of the pending skips.
func (b *Backoff) Skip() bool {
	if b.pending <= 0 {
		return false
	}
	b.pending--
	return true
}

// Failures returns the number of consecutive failures recorded since the
// last success.
func (b *Backoff) Failures() int { return b.failures }
