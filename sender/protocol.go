package sender

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxValueBytes is the largest value, in bytes, this package sends. It is the
// capacity of the Zabbix TEXT history column (65535 bytes on MySQL); longer
// values are cut at a UTF-8 rune boundary.
const MaxValueBytes = 65535

// Item is one value for one item of one host.
type Item struct {
	// Host is the technical host name as configured in Zabbix.
	Host string `json:"host"`
	// Key is the item key.
	Key string `json:"key"`
	// Value is the value as text; Zabbix converts it to the item's type.
	Value string `json:"value"`
	// Clock is the time of the value in Unix seconds; 0 lets the server stamp
	// the value with its receive time.
	Clock int64 `json:"clock,omitempty"`
	// NS is the nanosecond part of the time of the value; ignored when Clock
	// is 0.
	NS int64 `json:"ns,omitempty"`
}

// wireItem and wireItemStamped are the two shapes of a data element on the
// wire: the clock and ns members are left out entirely for unstamped values.
type wireItem struct {
	Host  string `json:"host"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

type wireItemStamped struct {
	Host  string `json:"host"`
	Key   string `json:"key"`
	Value string `json:"value"`
	Clock int64  `json:"clock"`
	NS    int64  `json:"ns"`
}

// encodeData returns the JSON array of the request's data member.
func encodeData(items []Item) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(items) * 96)
	buf.WriteByte('[')
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		var v any = wireItem{Host: it.Host, Key: it.Key, Value: it.Value}
		if it.Clock != 0 {
			v = wireItemStamped(it)
		}
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encode item %s: %w", it.Key, err)
		}
		buf.Truncate(buf.Len() - 1) // Encode appends a newline
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// buildRequest wraps an encoded data array into a "sender data" request
// stamped with now. The server uses the request clock to correct the
// values' clocks for the difference between the two machines' clocks.
func buildRequest(data []byte, now time.Time) []byte {
	out := make([]byte, 0, len(data)+80)
	out = append(out, `{"request":"sender data","data":`...)
	out = append(out, data...)
	out = append(out, `,"clock":`...)
	out = strconv.AppendInt(out, now.Unix(), 10)
	out = append(out, `,"ns":`...)
	out = strconv.AppendInt(out, int64(now.Nanosecond()), 10)
	return append(out, '}')
}

// EncodeRequest returns the JSON of a "sender data" request carrying items,
// stamped with now. Values are sent as given (see Client for sanitizing).
func EncodeRequest(items []Item, now time.Time) ([]byte, error) {
	data, err := encodeData(items)
	if err != nil {
		return nil, err
	}
	return buildRequest(data, now), nil
}

// Result counts values as reported by the server.
type Result struct {
	// Processed is the number of values the server accepted.
	Processed int
	// Failed is the number of values the server refused (unknown host or
	// key, not a trapper item, disabled item, ...).
	Failed int
	// Total is the number of values the server counted.
	Total int
	// Spent is the processing time reported by the server.
	Spent time.Duration
}

// Add adds the counts and time of o to r, to total several packets.
func (r *Result) Add(o Result) {
	r.Processed += o.Processed
	r.Failed += o.Failed
	r.Total += o.Total
	r.Spent += o.Spent
}

// String renders the result like the server's info text.
func (r Result) String() string {
	return fmt.Sprintf("processed: %d; failed: %d; total: %d; seconds spent: %.6f",
		r.Processed, r.Failed, r.Total, r.Spent.Seconds())
}

// ErrMalformedReply is wrapped by ParseReply when a reply is not a valid
// sender reply.
var ErrMalformedReply = errors.New("malformed sender reply")

// ParseReply decodes the JSON payload of a server reply. A "success" reply
// yields its counts; a "failed" reply yields a *RedirectError when it carries a
// Zabbix 7.0 redirect, else a *RejectedError carrying the
// server's info text; anything else is an error wrapping ErrMalformedReply.
func ParseReply(payload []byte) (Result, error) {
	var reply struct {
		Response *string `json:"response"`
		Info     *string `json:"info"`
	}
	if err := json.Unmarshal(payload, &reply); err != nil {
		return Result{}, fmt.Errorf("%w: %v (%q)", ErrMalformedReply, err, snippet(payload))
	}
	if reply.Response == nil {
		return Result{}, fmt.Errorf("%w: no response member (%q)", ErrMalformedReply, snippet(payload))
	}
	info := ""
	if reply.Info != nil {
		info = *reply.Info
	}
	switch *reply.Response {
	case "success":
		if reply.Info == nil {
			return Result{}, fmt.Errorf("%w: success without info", ErrMalformedReply)
		}
		return parseInfo(info)
	case "failed":
		if rd := parseRedirect(payload); rd != nil {
			return Result{}, rd
		}
		return Result{}, &RejectedError{Info: info}
	default:
		return Result{}, fmt.Errorf("%w: unknown response %q", ErrMalformedReply, snippet([]byte(*reply.Response)))
	}
}

// parseInfo reads "processed: 1; failed: 0; total: 1; seconds spent: 0.000109".
func parseInfo(info string) (Result, error) {
	var r Result
	seen := map[string]bool{}
	for part := range strings.SplitSeq(info, ";") {
		name, value, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		switch name {
		case "processed", "failed", "total":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return Result{}, fmt.Errorf("%w: bad %s count %q", ErrMalformedReply, name, snippet([]byte(value)))
			}
			switch name {
			case "processed":
				r.Processed = n
			case "failed":
				r.Failed = n
			case "total":
				r.Total = n
			}
			seen[name] = true
		case "seconds spent":
			f, err := strconv.ParseFloat(value, 64)
			if err != nil || math.IsNaN(f) || f < 0 || f > float64(math.MaxInt64)/float64(time.Second) {
				return Result{}, fmt.Errorf("%w: bad seconds spent %q", ErrMalformedReply, snippet([]byte(value)))
			}
			r.Spent = time.Duration(f * float64(time.Second))
		}
	}
	for _, name := range []string{"processed", "failed", "total"} {
		if !seen[name] {
			return Result{}, fmt.Errorf("%w: info %q lacks %q", ErrMalformedReply, snippet([]byte(info)), name)
		}
	}
	return r, nil
}

// snippet limits hostile text quoted in error messages.
func snippet(b []byte) string {
	const max = 120
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// sanitizeString replaces invalid UTF-8 (or reports it when strict) and
// truncates s to limit bytes at a rune boundary (limit <= 0: no limit).
func sanitizeString(s string, limit int, strict bool) (string, error) {
	if !utf8.ValidString(s) {
		if strict {
			return "", errors.New("not valid UTF-8")
		}
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if limit > 0 && len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s, nil
}

// sanitizeItem applies the UTF-8 and size rules to one item.
func sanitizeItem(it Item, strict bool) (Item, error) {
	var err error
	if it.Host, err = sanitizeString(it.Host, 0, strict); err != nil {
		return it, &ValueError{Host: it.Host, Key: it.Key, Field: "host", Err: err}
	}
	if it.Key, err = sanitizeString(it.Key, 0, strict); err != nil {
		return it, &ValueError{Host: it.Host, Key: it.Key, Field: "key", Err: err}
	}
	if it.Value, err = sanitizeString(it.Value, MaxValueBytes, strict); err != nil {
		return it, &ValueError{Host: it.Host, Key: it.Key, Field: "value", Err: err}
	}
	return it, nil
}

// SanitizeItems returns a copy of items whose host, key and value are valid
// UTF-8 (invalid bytes replaced by U+FFFD, or a *ValueError when strict) and
// whose values are at most MaxValueBytes long.
func SanitizeItems(items []Item, strict bool) ([]Item, error) {
	out := make([]Item, len(items))
	for i, it := range items {
		clean, err := sanitizeItem(it, strict)
		if err != nil {
			return nil, err
		}
		out[i] = clean
	}
	return out, nil
}
