package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The delivery ledger remembers, per site, family and period, that the period's values were
// handed over (acknowledged by Zabbix or kept in the spool, which delivers them later), so a
// rerun or a catch-up does not send them again: Zabbix would store nothing new and log a
// duplicate-key error for each value. Only the values a period still misses (measures that
// could not be computed, values of discovered items Zabbix refused) are sent again; --force
// sends everything.
//
// The ledger is one small JSON file per site in the state directory, rewritten atomically
// (temporary file, fsync, rename, fsync of the directory) under an exclusive lock, and bounded:
// each family keeps its latest ledgerKeep periods.

// ledgerKeep is how many periods of each family the ledger remembers: three hours of minutes,
// eight days of hours, more than a year of days, two years of weeks and five years of months,
// so every catch-up and backfill within those spans is covered.
var ledgerKeep = map[measures.Family]int{
	measures.Instant: 180,
	measures.Hourly:  192,
	measures.Daily:   400,
	measures.Weekly:  110,
	measures.Monthly: 60,
}

// ledger is one site's delivery ledger.
type ledger struct {
	path string
}

// ledgerEntry is one delivered period.
type ledgerEntry struct {
	Family string `json:"family"`
	// Clock is the period's clock (the last second of the period), as sent to Zabbix.
	Clock int64 `json:"clock"`
	// Recorded is when the period was last handed over.
	Recorded time.Time `json:"recorded"`
	// Processed, Refused and Spooled add up what each delivery of the period did.
	Processed int `json:"processed"`
	Refused   int `json:"refused"`
	Spooled   int `json:"spooled"`
	// Missing lists what the period still lacks: keys of measures that could not be computed
	// (with their discovery macros) and keys of discovered items Zabbix refused. Neither
	// reached Zabbix's history, so a rerun sends exactly these.
	Missing []string `json:"missing,omitempty"`
}

type ledgerData struct {
	Periods []ledgerEntry `json:"periods"`
}

// ledgerLookup is what the ledger knows of one period.
type ledgerLookup struct {
	// Known is set when the period was handed over before.
	Known bool
	// Forgotten is set when the period is older than every period the ledger still remembers
	// for a family at its bound: it may have been sent, so it is not sent again unforced.
	Forgotten bool
	Entry     ledgerEntry
}

// lookup returns what the ledger knows of family f's period at clock.
func (l *ledger) lookup(f measures.Family, clock int64) (ledgerLookup, error) {
	var out ledgerLookup
	err := l.locked(func() error {
		data, err := l.read()
		if err != nil {
			return err
		}
		out = data.lookup(f, clock)
		return nil
	})
	return out, err
}

func (d *ledgerData) lookup(f measures.Family, clock int64) ledgerLookup {
	n := 0
	oldest := int64(0)
	for _, e := range d.Periods {
		if e.Family != f.String() {
			continue
		}
		if e.Clock == clock {
			return ledgerLookup{Known: true, Entry: e}
		}
		if n == 0 || e.Clock < oldest {
			oldest = e.Clock
		}
		n++
	}
	return ledgerLookup{Forgotten: n >= ledgerKeep[f] && clock < oldest}
}

// record merges one delivery of family f's period at clock: missing replaces what the period
// still lacks.
func (l *ledger) record(f measures.Family, clock int64, d Delivery, missing []string, at time.Time) error {
	return l.locked(func() error {
		data, err := l.read()
		if err != nil {
			return err
		}
		i := -1
		for j, e := range data.Periods {
			if e.Family == f.String() && e.Clock == clock {
				i = j
			}
		}
		if i < 0 {
			data.Periods = append(data.Periods, ledgerEntry{Family: f.String(), Clock: clock})
			i = len(data.Periods) - 1
		}
		e := &data.Periods[i]
		e.Recorded = at.UTC()
		e.Processed += d.Processed
		e.Refused += d.Failed - d.ReplayRefused - d.HeldFailed
		e.Spooled += d.Spooled
		e.Missing = missing
		data.prune()
		return l.write(data)
	})
}

// prune keeps the latest ledgerKeep periods of each family, sorted by family and clock.
func (d *ledgerData) prune() {
	sort.SliceStable(d.Periods, func(i, j int) bool {
		a, b := d.Periods[i], d.Periods[j]
		if a.Family != b.Family {
			return a.Family < b.Family
		}
		return a.Clock > b.Clock
	})
	kept := d.Periods[:0]
	count := map[string]int{}
	for _, e := range d.Periods {
		f, err := measures.ParseFamily(e.Family)
		if err != nil {
			continue
		}
		if count[e.Family] < ledgerKeep[f] {
			kept = append(kept, e)
			count[e.Family]++
		}
	}
	d.Periods = kept
}

// read loads the ledger; a missing file is an empty ledger.
func (l *ledger) read() (*ledgerData, error) {
	var d ledgerData
	raw, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("delivery ledger %s: %w", l.path, err)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("delivery ledger %s: %w (move it away to start a new one)", l.path, err)
	}
	return &d, nil
}

func (l *ledger) write(d *ledgerData) error {
	raw, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(l.path, append(raw, '\n')); err != nil {
		return fmt.Errorf("delivery ledger: %w", err)
	}
	return nil
}

// locked runs fn holding an exclusive lock on the ledger, so runs of several families of a
// site in separate processes never lose each other's records.
func (l *ledger) locked(fn func() error) error {
	dir := filepath.Dir(l.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("delivery ledger %s: %w", dir, err)
	}
	f, err := os.OpenFile(l.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("delivery ledger: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("delivery ledger: lock %s: %w", f.Name(), err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing unlocks anyway
	return fn()
}

// writeFileAtomic replaces path with data so that a crash leaves either the old or the new
// file, never a torn one: a private temporary file in the same directory, fsync'd, renamed
// over path, and the directory fsync'd so the rename itself survives.
func writeFileAtomic(path string, data []byte) error {
	return replaceFile(path, data, true)
}

// replaceFile writes data to a private temporary file beside path and renames it over path, so
// that a reader never sees a torn file. When durable is true, the file and then the directory
// are fsync'd, so that the new content also survives a crash.
func replaceFile(path string, data []byte, durable bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ledgerMissing lists what a burst could not produce: the keys of its failed measures.
func ledgerMissing(b *measures.Burst) []string {
	var out []string
	for _, f := range b.Failures {
		out = append(out, f.Keys...)
	}
	return out
}

// stillMissing returns the keys of before that the new attempt did not deliver either: those
// in failed (keys of measures that failed again or values refused again).
func stillMissing(before, failed []string) []string {
	again := map[string]bool{}
	for _, k := range failed {
		again[k] = true
	}
	var out []string
	for _, k := range before {
		if again[k] {
			out = append(out, k)
		}
	}
	return out
}

// missingValues returns the values of b that fill a period's missing keys: exact keys, and for
// a prototype key (with discovery macros) every value of its items.
func missingValues(vals []measures.Value, missing []string) []measures.Value {
	exact := map[string]bool{}
	protoBase := map[string]bool{}
	for _, k := range missing {
		if strings.Contains(k, "{#") {
			protoBase[keyBase(k)] = true
		} else {
			exact[k] = true
		}
	}
	var out []measures.Value
	for _, v := range vals {
		if exact[v.Key] || (v.Prototype && protoBase[keyBase(v.Key)]) {
			out = append(out, v)
		}
	}
	return out
}

// keyBase is an item key without its parameters.
func keyBase(k string) string {
	if i := strings.IndexByte(k, '['); i >= 0 {
		return k[:i]
	}
	return k
}
