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

// PlainSender adapts a sender without a spool (a dry run, an output file) to Sender.
type PlainSender struct{ S sender.Sender }

// Send sends items and reports them in a SpoolResult with nothing spooled.
func (p PlainSender) Send(ctx context.Context, items []sender.Item) (sender.SpoolResult, error) {
	res, err := p.S.Send(ctx, items)
	return sender.SpoolResult{Result: res}, err
}

// Delivery reports how one burst was delivered.
type Delivery struct {
	// Sent counts the values handed to the sender.
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

// Deliver sends a burst's values for host.
func (d *Deliverer) Deliver(ctx context.Context, host string, b *measures.Burst) Delivery {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	var first, protos []measures.Value
	lldSent := false
	for _, v := range b.Values {
		switch {
		case v.Discovery:
			lldSent = true
			first = append(first, v)
		case v.Prototype:
			protos = append(protos, v)
		default:
			first = append(first, v)
		}
	}
	var out Delivery
	// replayed counts what the spool's replay did before a send: values delivered, values
	// Zabbix refused (counted as failed, so the run exits 2), values the spool dropped.
	replayed := func(res sender.SpoolResult) {
		out.Replayed += res.Replay.Items
		out.Dropped += res.Replay.Dropped
		if refused := res.ReplayResult.Failed + res.ReplayRejected; refused > 0 {
			out.Failed += refused
			out.ReplayRefused += refused
			log.Warn("Zabbix refused replayed values", "host", host, "values", refused)
		}
	}
	add := func(res sender.SpoolResult, err error) {
		out.Processed += res.Processed
		out.Failed += res.Failed
		out.Spooled += res.Spooled
		replayed(res)
		if err != nil && !isPartial(err) {
			out.Err = errors.Join(out.Err, err)
		}
	}
	items := Items(host, first)
	if !lldSent {
		items = append(items, Items(host, protos)...)
		protos = nil
	}
	out.Sent = len(items)
	unreachable := false
	if len(items) > 0 {
		res, err := d.Sender.Send(ctx, items)
		add(res, err)
		unreachable = notDelivered(err)
	}
	if len(protos) == 0 {
		return out
	}
	if unreachable {
		// Zabbix cannot be reached: one packet per value would only wait for the same timeout
		// again and again; the values go to the spool together.
		out.Sent += len(protos)
		add(d.Sender.Send(ctx, Items(host, protos)))
		return out
	}
	// Items discovered in this burst exist in Zabbix only after its next configuration cache
	// update. Each value goes in its own packet, so Zabbix's answer says exactly which ones it
	// refused; only those are sent again, so no accepted value is ever repeated.
	out.Sent += len(protos)
	pending := Items(host, protos)
	deadline := time.Now().Add(orDefault(d.LLDWait, DefaultLLDWait))
	retry := orDefault(d.LLDRetry, DefaultLLDRetry)
	firstRound := true
	for len(pending) > 0 {
		var refused []sender.Item
		for i, it := range pending {
			res, err := d.Sender.Send(ctx, []sender.Item{it})
			out.Spooled += res.Spooled
			replayed(res)
			if notDelivered(err) {
				// Zabbix went away: the rest joins this value in the spool, in one packet.
				out.Err = errors.Join(out.Err, err)
				if rest := pending[i+1:]; len(rest) > 0 {
					add(d.Sender.Send(ctx, rest))
				}
				return out
			}
			if err != nil && !isPartial(err) {
				out.Err = errors.Join(out.Err, err)
				continue
			}
			if res.Failed > 0 {
				refused = append(refused, it)
				continue
			}
			out.Processed += res.Processed
		}
		if firstRound && len(refused) > 0 {
			out.Held = len(refused)
			log.Info("holding values of newly discovered items until Zabbix knows them", "host", host, "family", b.Family.String(), "values", len(refused))
		}
		firstRound = false
		pending = refused
		if len(pending) == 0 || time.Now().Add(retry).After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			out.Err = errors.Join(out.Err, ctx.Err())
			pending = pending[:0:0]
		case <-time.After(retry):
		}
	}
	for _, it := range pending {
		out.Failed++
		out.HeldFailed++
		out.FailedKeys = append(out.FailedKeys, it.Key)
		log.Warn("Zabbix still refuses a value of a discovered item", "host", host, "key", it.Key)
	}
	return out
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

// String summarises a delivery in one line.
func (d Delivery) String() string {
	s := fmt.Sprintf("sent %d, processed %d, failed %d", d.Sent, d.Processed, d.Failed)
	if d.Spooled > 0 {
		s += fmt.Sprintf(", spooled %d", d.Spooled)
	}
	if d.Replayed > 0 {
		s += fmt.Sprintf(", replayed %d", d.Replayed)
	}
	if d.ReplayRefused > 0 {
		s += fmt.Sprintf(" (%d of them refused)", d.ReplayRefused)
	}
	if d.Dropped > 0 {
		s += fmt.Sprintf(", dropped from spool %d", d.Dropped)
	}
	if d.Held > 0 {
		s += fmt.Sprintf(", held %d", d.Held)
	}
	return s
}
