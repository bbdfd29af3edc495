package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The instant family reports the web log events of the last hour every minute. Read in full,
// that is an hour of log rows every minute, most of an instant burst's database time on a busy
// site. With a memo, the count is kept per minute: a burst reads only the minutes that earlier
// bursts have not counted once settled, normally the last few, and adds the rest from the memo.

// WebMinuteSettle is how long after its end a minute's web events must have been counted for
// the count to be reused. Moodle writes a request's log rows when the request ends, stamped
// with the time of each event, so a minute goes on gaining rows for as long as its longest
// requests run. Rows written later than this after their minute are counted only by the full
// statement (runs without a memo).
const WebMinuteSettle = 5 * time.Minute

// webMemoName is the memo entry of the per-minute web event counts.
const webMemoName = "general.web.minutes"

// webMinute is the count of one minute of web log events, as kept in the memo.
type webMinute struct {
	// Start is the minute's first second (Unix time); N its web log events.
	Start int64 `json:"start"`
	N     int64 `json:"n"`
	// CountedFor is the window end of the burst that counted it.
	CountedFor int64 `json:"counted_for"`
}

// settled reports whether the count was taken at least WebMinuteSettle after the minute ended.
func (m webMinute) settled() bool {
	return m.CountedFor-(m.Start+60) >= int64(WebMinuteSettle/time.Second)
}

// webEventsByMinute computes generalWeb's row from the memo's settled minutes and one statement
// over the minutes that follow them, then keeps the hour's minutes in the memo.
func webEventsByMinute(ctx context.Context, q measures.Querier, p measures.Params) ([]measures.Row, error) {
	to, hour := p.To(), p.Before(time.Hour)
	if (to-hour)%60 != 0 {
		return nil, fmt.Errorf("window end %d is not on a minute", to)
	}
	var kept []webMinute
	if data := p.Memo.Load(webMemoName); data != nil {
		if err := json.Unmarshal(data, &kept); err != nil {
			kept = nil // a memo that cannot be read is forgotten: everything is counted again
		}
	}
	settled := map[int64]webMinute{}
	for _, m := range kept {
		if m.Start >= hour && m.Start+60 <= to && m.settled() {
			settled[m.Start] = m
		}
	}
	// The memo's minutes are used up to the first one it lacks; the rest is counted.
	from := hour
	for from < to {
		if _, ok := settled[from]; !ok {
			break
		}
		from += 60
	}
	counts := map[int64]int64{}
	if from < to {
		rows, err := q.Query(ctx, `SELECT timecreated, COUNT(*) AS n
  FROM {logstore_standard_log}
 WHERE timecreated >= ? AND timecreated < ? AND origin = 'web'
 GROUP BY timecreated`, from, to)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			t, err := rowInt(r, "timecreated")
			if err != nil {
				return nil, err
			}
			n, err := rowInt(r, "n")
			if err != nil {
				return nil, err
			}
			counts[hour+(t-hour)/60*60] += n
		}
	}
	var total int64
	minutes := make([]webMinute, 0, 60)
	for start := hour; start < to; start += 60 {
		m, ok := settled[start]
		if start >= from || !ok {
			m = webMinute{Start: start, N: counts[start], CountedFor: to}
		}
		total += m.N
		minutes = append(minutes, m)
	}
	data, err := json.Marshal(minutes)
	if err != nil {
		return nil, err
	}
	p.Memo.Store(webMemoName, data)
	return []measures.Row{{
		"webrequestrate": float64(total) / 60,
		"webrequests":    minutes[len(minutes)-1].N,
	}}, nil
}

// rowInt reads an integer column of a row, whatever type the driver gave it.
func rowInt(r measures.Row, col string) (int64, error) {
	s, err := measures.FormatValue(measures.Unsigned, r[col])
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", col, err)
	}
	return strconv.ParseInt(s, 10, 64)
}
