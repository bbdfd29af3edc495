// Package app wires the product together: configuration, sites, the runner, delivery to Zabbix,
// self-monitoring state and the subcommands' logic. cmd/moodle-zabbix is a thin shell over it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

// Default timings for values of freshly discovered items.
const (
	// DefaultLLDWait is how long values for items that a discovery in the same burst is about
	// to create are retried before they count as failed. Zabbix accepts them only after its
	// next configuration cache update (CacheUpdateFrequency, 60 s by default).
	DefaultLLDWait = 150 * time.Second
	// DefaultLLDRetry is the pause between two attempts for held values.
	DefaultLLDRetry = 5 * time.Second
)

// Deliverer sends bursts to Zabbix: discovery data and plain values first, then the values of
// discovered items, which are held and retried while Zabbix's configuration cache catches up.
type Deliverer struct {
	// Sender delivers values: a *sender.SpoolingSender keeps what cannot be delivered.
	Sender Sender
	// LLDWait and LLDRetry bound the retries of held values (defaults above).
	LLDWait  time.Duration
	LLDRetry time.Duration
	// Logger receives one line per held or failed value.
	Logger *slog.Logger
}

// Sender is what a Deliverer sends through: a spooling sender or a plain one.
type Sender interface {
	Send(ctx context.Context, items []sender.Item) (sender.SpoolResult, error)
}

// HeldSender is a Sender that can keep values of freshly discovered items apart in its spool,
// so that a later replay gives Zabbix time to create their items (*sender.SpoolingSender).
type HeldSender interface {
	SendHeld(ctx context.Context, items []sender.Item) (sender.SpoolResult, error)
}

// PlainSender adapts a sender without a spool (a dry run, an output file) to Sender.
type PlainSender struct{ S sender.Sender }

// Send sends items and reports them in a SpoolResult with nothing spooled.
func (p PlainSender) Send(ctx context.Context, items []sender.Item) (sender.SpoolResult, error) {
	res, err := p.S.Send(ctx, items)
	return sender.SpoolResult{Result: res}, err
}

// Delivery reports how one burst was delivered.
type Delivery struct {
	// Sent counts the burst's values Zabbix answered for, processed or refused; values only
	// kept in the spool are counted in Spooled, not here.
	Sent int
	// Processed and Failed are Zabbix's counts for the values it answered.
	Processed int
	Failed    int
	// Spooled counts values kept on disk because Zabbix could not be reached.
	Spooled int
	// Replayed counts older spooled values delivered first; Dropped those the spool's bounds
	// discarded (counted, never silent).
	Replayed int
	Dropped  int
	// ReplayRefused counts replayed values Zabbix answered as failed (included in Failed).
	ReplayRefused int
	// ReplayHeld counts replayed values of freshly discovered items that Zabbix refused while
	// it may still be creating their items: they stay in the spool for a later replay.
	ReplayHeld int
	// Held counts values of freshly discovered items that had to wait for Zabbix; HeldFailed
	// those still refused when the wait ended.
	Held       int
	HeldFailed int
	// FailedKeys lists keys Zabbix refused, when they could be told apart.
	FailedKeys []string
	// Err is the delivery error, if any (a *sender.SpooledError when values were kept).
	Err error
}

// Items converts a burst's values to sender items for host. Values of one burst share one
// clock; the nanosecond field keeps their order stable.
func Items(host string, vals []measures.Value) []sender.Item {
	out := make([]sender.Item, len(vals))
	for i, v := range vals {
		out[i] = sender.Item{Host: host, Key: v.Key, Value: v.Value, Clock: v.Clock.Unix(), NS: int64(v.Clock.Nanosecond())}
	}
	return out
}

// Deliver sends a burst's values for host, in named steps: plain values and discovery data
// together; then, when the burst discovered entities, their values held until Zabbix knows
// the new items; what is still refused at the end is counted as failed.
func (d *Deliverer) Deliver(ctx context.Context, host string, b *measures.Burst) Delivery {
	r := &deliveryRun{d: d, host: host, family: b.Family, log: d.Logger}
	if r.log == nil {
		r.log = slog.Default()
	}
	plain, discovered := splitDiscovered(b.Values)
	unreachable := r.sendTogether(ctx, Items(host, plain))
	switch {
	case len(discovered) == 0:
	case unreachable:
		// Zabbix cannot be reached: one packet per value would only wait for the same timeout
		// again and again; the values go to the spool together, held apart from the rest so
		// that the replay gives Zabbix time to create their items.
		r.count(r.sendHeld(ctx, Items(host, discovered)))
	default:
		r.refuse(r.holdUntilKnown(ctx, Items(host, discovered)))
	}
	return r.finish()
}

// deliveryRun is the state of one Deliver.
type deliveryRun struct {
	d      *Deliverer
	host   string
	family measures.Family
	log    *slog.Logger
	out    Delivery
}

// splitDiscovered separates the values of items discovered in this same burst (prototype
// values sent with their rule's discovery data) from the rest. Without discovery data in the
// burst, prototype values go with the rest: their items exist already.
func splitDiscovered(vals []measures.Value) (plain, discovered []measures.Value) {
	lld := false
	for _, v := range vals {
		lld = lld || v.Discovery
	}
	for _, v := range vals {
		if lld && v.Prototype {
			discovered = append(discovered, v)
		} else {
			plain = append(plain, v)
		}
	}
	return plain, discovered
}

// sendTogether sends items in one call and counts Zabbix's answer; it reports whether Zabbix
// could not be reached.
func (r *deliveryRun) sendTogether(ctx context.Context, items []sender.Item) (unreachable bool) {
	if len(items) == 0 {
		return false
	}
	res, err := r.d.Sender.Send(ctx, items)
	r.count(res, err)
	return notDelivered(err)
}

// sendHeld sends values of freshly discovered items: through SendHeld when the sender has it,
// so that what it spools is kept apart as held values.
func (r *deliveryRun) sendHeld(ctx context.Context, items []sender.Item) (sender.SpoolResult, error) {
	if hs, ok := r.d.Sender.(HeldSender); ok {
		return hs.SendHeld(ctx, items)
	}
	return r.d.Sender.Send(ctx, items)
}

// count adds one send's answer to the delivery.
func (r *deliveryRun) count(res sender.SpoolResult, err error) {
	r.out.Processed += res.Processed
	r.out.Failed += res.Failed
	r.out.Spooled += res.Spooled
	r.replayed(res)
	if err != nil && !isPartial(err) {
		r.out.Err = errors.Join(r.out.Err, err)
	}
}

// replayed counts what the spool's replay did before a send: values delivered, values Zabbix
// refused (counted as failed, so the run exits 2), values the spool dropped.
func (r *deliveryRun) replayed(res sender.SpoolResult) {
	r.out.Replayed += res.Replay.Items
	r.out.Dropped += res.Replay.Dropped
	r.out.ReplayHeld += res.Replay.Held
	if refused := res.ReplayResult.Failed + res.ReplayRejected; refused > 0 {
		r.out.Failed += refused
		r.out.ReplayRefused += refused
		r.log.Debug("Zabbix refused replayed values", "host", r.host, "values", refused)
	}
}

// holdUntilKnown sends the values of freshly discovered items, which Zabbix accepts only after
// its next configuration cache update. Each value goes in its own packet, so Zabbix's answer
// says exactly which ones it refused; only those are sent again, until the deadline, so no
// accepted value is ever repeated. It returns the values still refused.
func (r *deliveryRun) holdUntilKnown(ctx context.Context, pending []sender.Item) []sender.Item {
	deadline := time.Now().Add(orDefault(r.d.LLDWait, DefaultLLDWait))
	retry := orDefault(r.d.LLDRetry, DefaultLLDRetry)
	for round := 0; len(pending) > 0; round++ {
		refused, gone := r.sendEach(ctx, pending)
		if gone {
			return nil
		}
		if round == 0 && len(refused) > 0 {
			r.out.Held = len(refused)
			r.log.Info("holding values of newly discovered items until Zabbix knows them", "host", r.host, "family", r.family.String(), "values", len(refused))
		}
		pending = refused
		if len(pending) == 0 || time.Now().Add(retry).After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			r.out.Err = errors.Join(r.out.Err, ctx.Err())
			return nil
		case <-time.After(retry):
		}
	}
	return pending
}

// sendEach sends items one per packet and returns those Zabbix refused. When Zabbix goes away,
// the rest joins the spool in one packet and gone is true.
func (r *deliveryRun) sendEach(ctx context.Context, items []sender.Item) (refused []sender.Item, gone bool) {
	for i, it := range items {
		res, err := r.sendHeld(ctx, []sender.Item{it})
		r.out.Spooled += res.Spooled
		r.replayed(res)
		if notDelivered(err) {
			r.out.Err = errors.Join(r.out.Err, err)
			if rest := items[i+1:]; len(rest) > 0 {
				r.count(r.sendHeld(ctx, rest))
			}
			return nil, true
		}
		if err != nil && !isPartial(err) {
			r.out.Err = errors.Join(r.out.Err, err)
			continue
		}
		if res.Failed > 0 {
			refused = append(refused, it)
			continue
		}
		r.out.Processed += res.Processed
	}
	return refused, false
}

// refuse counts the values Zabbix still refused when the hold ended, by key.
func (r *deliveryRun) refuse(items []sender.Item) {
	for _, it := range items {
		r.out.Failed++
		r.out.HeldFailed++
		r.out.FailedKeys = append(r.out.FailedKeys, it.Key)
		r.log.Debug("Zabbix still refuses a value of a discovered item", "host", r.host, "key", it.Key)
	}
}

// finish returns the delivery with Sent counting the burst's values Zabbix answered for
// (processed or refused), never those only spooled.
func (r *deliveryRun) finish() Delivery {
	r.out.Sent = r.out.Processed + r.out.Failed - r.out.ReplayRefused
	return r.out
}

// notDelivered reports an error that means Zabbix could not be reached (the values were
// spooled, or could not even be spooled).
func notDelivered(err error) bool {
	var se *sender.SpooledError
	var de *sender.DeliveryError
	return errors.As(err, &se) || errors.As(err, &de)
}

func isPartial(err error) bool {
	var pe *sender.PartialError
	return errors.As(err, &pe)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// String summarises a delivery in one line: values Zabbix answered (processed, refused) apart
// from those only kept in the spool.
func (d Delivery) String() string {
	s := fmt.Sprintf("sent %d (processed %d, refused %d)", d.Sent, d.Processed, d.Failed-d.ReplayRefused)
	if d.Spooled > 0 {
		s += fmt.Sprintf(", spooled %d (not sent: Zabbix unreachable)", d.Spooled)
	}
	if d.Replayed > 0 {
		s += fmt.Sprintf(", replayed from spool %d", d.Replayed)
	}
	if d.ReplayRefused > 0 {
		s += fmt.Sprintf(" (%d of them refused)", d.ReplayRefused)
	}
	if d.ReplayHeld > 0 {
		s += fmt.Sprintf(", %d kept in the spool until Zabbix knows their items", d.ReplayHeld)
	}
	if d.Dropped > 0 {
		s += fmt.Sprintf(", dropped from spool %d", d.Dropped)
	}
	if d.Held > 0 {
		s += fmt.Sprintf(", held %d", d.Held)
	}
	return s
}
