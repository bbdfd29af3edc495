package sender

import (
	"context"
	"errors"
	"fmt"
)

// Sender is what SpoolingSender needs from a client; *Client implements it.
type Sender interface {
	Send(ctx context.Context, items []Item) (Result, error)
}

// SpoolingSender sends through a Sender and keeps what could not be
// delivered in a Spool, replaying it before new values on the next call.
type SpoolingSender struct {
	// Sender delivers values, normally a *Client.
	Sender Sender
	// Spool stores undelivered values for this destination.
	Spool *Spool
}

// SpoolResult reports one SpoolingSender.Send call.
type SpoolResult struct {
	// Result counts the new values answered by the server.
	Result
	// Replay reports the replay of older values done first.
	Replay ReplayStats
	// ReplayResult sums the server's answers to the packets of replayed
	// values: Failed counts replayed values the server refused (unknown
	// host or key, ...). They were answered, so they are consumed and never
	// sent again, and they are not counted in the embedded Result. Held
	// values refused and kept for a later replay (Replay.Held) are not in
	// it.
	ReplayResult Result
	// ReplayRejected counts replayed values in packets the server rejected
	// as a whole (response "failed", a *RejectedError); they are not in
	// ReplayResult and are not sent again either.
	ReplayRejected int
	// Spooled is the number of new values stored in the spool because they
	// could not be delivered.
	Spooled int
}

// SpooledError reports values that could not be delivered but are safe in
// the spool. It deliberately does not unwrap to the *DeliveryError, so that
// callers do not store the values a second time; it unwraps to the
// underlying network or context failure.
type SpooledError struct {
	// Spooled is the number of new values stored.
	Spooled int
	// Err is why delivery failed.
	Err error
}

// Error describes the failure and what was kept.
func (e *SpooledError) Error() string {
	return fmt.Sprintf("sender: %d values not delivered, kept in the spool: %v", e.Spooled, e.Err)
}

// Unwrap returns why delivery failed.
func (e *SpooledError) Unwrap() error { return e.Err }

// Send first replays the spool, then sends items. Failures the server
// answered for replayed values are not returned as errors: they are counted
// in SpoolResult.ReplayResult and SpoolResult.ReplayRejected (and in
// Replay.SendErrors). When the replay cannot
// deliver, items go straight to the spool behind the older values (the
// server is unreachable; trying again would only wait for the same
// timeouts). When items cannot all be delivered, the undelivered ones are
// appended to the spool and the error is a *SpooledError. Answered failures
// (*PartialError, *RejectedError) are returned as they are. If even the
// spool fails, the *DeliveryError is returned joined with the spool error.
func (ss *SpoolingSender) Send(ctx context.Context, items []Item) (SpoolResult, error) {
	return ss.send(ctx, items, false)
}

// SendHeld is Send for values the server may refuse for a while: those of
// items that discovery data sent just before is about to create. What
// cannot be delivered goes to the spool with Spool.AppendHeld, so that a
// replay soon after the discovery data does not lose them.
func (ss *SpoolingSender) SendHeld(ctx context.Context, items []Item) (SpoolResult, error) {
	return ss.send(ctx, items, true)
}

// send is Send, appending to the spool as held values when held is true.
func (ss *SpoolingSender) send(ctx context.Context, items []Item, held bool) (SpoolResult, error) {
	var out SpoolResult
	var replayErr error
	if ss.Spool.Depth().Records > 0 {
		st, err := ss.Spool.Replay(ctx, func(ctx context.Context, batch []Item) error {
			res, err := ss.Sender.Send(ctx, batch)
			out.ReplayResult.Add(res)
			out.ReplayRejected += rejectedItems(err)
			return err
		})
		out.Replay = st
		// Held values refused but kept were answered with a failure; they are
		// not refused yet.
		out.ReplayResult.Failed -= st.Held
		out.ReplayResult.Total -= st.Held
		var de *DeliveryError
		switch {
		case errors.As(err, &de), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return out, ss.spool(items, &out, err, held)
		case err != nil:
			// The spool itself failed; still try to deliver the new values.
			replayErr = err
		}
	}
	res, err := ss.Sender.Send(ctx, items)
	out.Result = res
	var de *DeliveryError
	if !errors.As(err, &de) {
		return out, errors.Join(replayErr, err)
	}
	// Keep the answered failures that came with the delivery failure.
	others := []error{replayErr}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != error(de) {
				others = append(others, e)
			}
		}
	}
	return out, errors.Join(append(others, ss.spool(de.Undelivered, &out, de.Err, held))...)
}

// rejectedItems sums the values of every *RejectedError in err's tree (a
// Client joins one per rejected packet).
func rejectedItems(err error) int {
	switch e := err.(type) {
	case nil:
		return 0
	case *RejectedError:
		return e.Items
	case interface{ Unwrap() []error }:
		n := 0
		for _, sub := range e.Unwrap() {
			n += rejectedItems(sub)
		}
		return n
	case interface{ Unwrap() error }:
		return rejectedItems(e.Unwrap())
	}
	return 0
}

// spool appends undelivered values (as held values when held is true) and
// builds the matching error.
func (ss *SpoolingSender) spool(items []Item, out *SpoolResult, cause error, held bool) error {
	if de := (*DeliveryError)(nil); errors.As(cause, &de) {
		cause = de.Err
	}
	if len(items) == 0 {
		return &SpooledError{Err: cause}
	}
	appendItems := ss.Spool.Append
	if held {
		appendItems = ss.Spool.AppendHeld
	}
	if err := appendItems(items); err != nil {
		return errors.Join(&DeliveryError{Err: cause, Undelivered: items}, err)
	}
	out.Spooled = len(items)
	return &SpooledError{Spooled: len(items), Err: cause}
}
