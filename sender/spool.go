package sender

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spool defaults used for zero SpoolOptions fields.
const (
	// DefaultSpoolMaxBytes bounds the pending data of one spool.
	DefaultSpoolMaxBytes = 256 << 20
	// DefaultSpoolMaxAge bounds how long values wait in the spool.
	DefaultSpoolMaxAge = 7 * 24 * time.Hour
	// DefaultSegmentBytes is the size after which a new segment file starts.
	DefaultSegmentBytes = 4 << 20
	// DefaultReplayBatch is the number of values handed to send at once.
	DefaultReplayBatch = 1000
	// DefaultHoldFor is how long held values (see AppendHeld) may be refused
	// by the server before they count as refused for good.
	DefaultHoldFor = 15 * time.Minute
	// DefaultHoldRetry is the pause before a held record the server refused
	// is offered again.
	DefaultHoldRetry = 30 * time.Second
)

const (
	recordHeaderSize = 8        // uint32 LE payload length, uint32 LE CRC-32C
	maxRecordPayload = 64 << 20 // larger lengths can only be corruption
	maxRecordItems   = 5000     // Append splits larger slices
	segmentSuffix    = ".seg"
	checkpointName   = "checkpoint"
	lockName         = "lock"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// SpoolOptions configure a Spool. Zero values select the defaults.
type SpoolOptions struct {
	// MaxBytes bounds the pending records (0: DefaultSpoolMaxBytes, <0: no
	// bound). The oldest records are dropped, and counted, beyond it.
	MaxBytes int64
	// MaxAge drops records that have waited in the spool longer than this
	// (0: DefaultSpoolMaxAge, <0: no bound). The wait is measured from the
	// time of the Append, which is stored in each record, not from the
	// clocks of the values: values computed for a past period are kept as
	// long as recent ones. Records are dropped oldest first, and counted.
	MaxAge time.Duration
	// SegmentBytes is the segment size after which appends go to a new file
	// (0: DefaultSegmentBytes).
	SegmentBytes int64
	// ReplayBatch is the number of values handed to send per call during
	// Replay (0: DefaultReplayBatch); whole records are never split.
	ReplayBatch int
	// HoldFor bounds how long the server may refuse held values (see
	// AppendHeld), counted from the first refusal, before they are consumed
	// as refused (0: DefaultHoldFor).
	HoldFor time.Duration
	// HoldRetry is the pause before a refused held record is offered again
	// (0: DefaultHoldRetry). Records behind it wait for it.
	HoldRetry time.Duration
	// Logger receives warnings about dropped and corrupt records; nil
	// discards them (they are still counted).
	Logger *slog.Logger
	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// Spool is a durable, bounded, on-disk queue of values that could not be
// delivered, for one destination. Its directory holds segment files named
// by a sequence number ("00000000000000000001.seg") that are only ever
// appended to; each record is a little-endian uint32 payload length, the
// CRC-32C (Castagnoli) of the payload, and the payload, a JSON object
// {"appended": <Unix seconds of the Append>, "items": [<Item>, ...]}. A
// "checkpoint" file, replaced atomically (write, fsync, rename,
// fsync of the directory), tells how far Replay got. Fully consumed
// segments are deleted. A "lock" file keeps a second process out. A record
// appended by AppendHeld also has "held": true, and "refused_since" (Unix
// seconds) once the server has refused its values.
//
// Append syncs the data (and, when it creates a segment, the directory)
// before returning, so a value whose Append returned nil survives a crash.
// A record torn by a crash is detected by its length and checksum when the
// spool is opened: the tail of the last segment is cut off there, and the
// loss is logged and counted. A Spool is safe for concurrent use.
type Spool struct {
	dir  string
	opts SpoolOptions
	log  *slog.Logger
	now  func() time.Time

	replayMu sync.Mutex // one Replay at a time
	mu       sync.Mutex // everything below
	lock     *os.File
	recs     []recRef // pending records, oldest first
	skip     int      // values of recs[0] already consumed
	pendSize int64    // bytes of pending records
	active   *os.File
	actSeq   int64 // sequence of the active (or last) segment
	actSize  int64
	closed   bool

	nextNum int64 // number given to the next record indexed

	unreportedDropped int
	unreportedCorrupt int
	stats             SpoolStats
}

// recRef locates one pending record.
type recRef struct {
	seg      int64
	off      int64
	size     int64 // header and payload
	items    int
	oldest   int64 // oldest value clock
	appended int64 // Unix seconds of the Append that wrote the record
	held     bool  // written by AppendHeld: values sent one per packet
	refused  int64 // Unix seconds of the held values' first refusal, 0 before
	num      int64 // order of indexing: records a Replay adds come after its end
}

// SpoolStats are cumulative counters since the spool was opened.
type SpoolStats struct {
	// Appended is the number of values appended.
	Appended int
	// Replayed is the number of values consumed by Replay.
	Replayed int
	// Dropped is the number of values dropped by MaxBytes or MaxAge, or lost
	// in unreadable records.
	Dropped int
	// Corrupt is the number of torn or corrupt regions skipped.
	Corrupt int
}

// Depth describes what is pending in a spool.
type Depth struct {
	// Records and Items count pending records and values.
	Records, Items int
	// Bytes is the on-disk size of the pending records.
	Bytes int64
	// OldestClock is the oldest value's clock (Unix seconds), 0 when empty.
	OldestClock int64
}

// ReplayStats report one Replay call.
type ReplayStats struct {
	// Batches is the number of send calls.
	Batches int
	// Records and Items count what was consumed: delivered, or answered by
	// the server with an error (never resent).
	Records, Items int
	// SendErrors counts send calls that returned an answered-but-failed
	// error (such as *PartialError); LastSendError is the last of them.
	// Held values the server refused within HoldFor are not among them.
	SendErrors    int
	LastSendError error
	// Held counts held values the server refused within HoldFor: they were
	// appended again, to be offered after HoldRetry, and are not in Items.
	Held int
	// Dropped counts values dropped by the bounds or lost in unreadable
	// records since the previous Replay (including while opening).
	Dropped int
	// Corrupt counts torn or corrupt regions found since the previous
	// Replay (including while opening).
	Corrupt int
	// Pending is what is left.
	Pending Depth
}

// checkpoint is the durable replay position: everything before (Segment,
// Offset) is consumed, and Skip values of the record at that position.
type checkpoint struct {
	Segment int64 `json:"segment"`
	Offset  int64 `json:"offset"`
	Skip    int   `json:"skip"`
}

// OpenSpool opens (creating it if needed, mode 0700) the spool in dir. Use
// one directory per destination.
func OpenSpool(dir string, opts SpoolOptions) (*Spool, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultSpoolMaxBytes
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultSpoolMaxAge
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.ReplayBatch <= 0 {
		opts.ReplayBatch = DefaultReplayBatch
	}
	if opts.HoldFor <= 0 {
		opts.HoldFor = DefaultHoldFor
	}
	if opts.HoldRetry <= 0 {
		opts.HoldRetry = DefaultHoldRetry
	}
	s := &Spool{dir: dir, opts: opts, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	if err := lockFile(lf); err != nil {
		lf.Close()
		return nil, err
	}
	s.lock = lf
	if err := s.load(); err != nil {
		lf.Close()
		if s.active != nil {
			s.active.Close()
		}
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	s.mu.Lock()
	s.enforceLocked()
	s.mu.Unlock()
	return s, nil
}

// load reads the checkpoint and scans the segments.
func (s *Spool) load() error {
	cp := checkpoint{}
	data, err := os.ReadFile(filepath.Join(s.dir, checkpointName))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(data, &cp); err != nil || cp.Segment < 0 || cp.Offset < 0 || cp.Skip < 0 {
			// Replaying from the start can only duplicate values, which the
			// server ignores for stamped values; losing them would be worse.
			s.log.Warn("spool: unreadable checkpoint, replaying from the oldest segment", "dir", s.dir, "err", err)
			cp = checkpoint{}
		}
	}
	_ = os.Remove(filepath.Join(s.dir, checkpointName+".tmp"))
	seqs, err := s.segments()
	if err != nil {
		return err
	}
	s.actSeq = cp.Segment
	var live []int64
	for _, seq := range seqs {
		if seq < cp.Segment {
			if err := os.Remove(s.segPath(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			continue
		}
		live = append(live, seq)
	}
	for i, seq := range live {
		last := i == len(live)-1
		start := int64(0)
		if seq == cp.Segment {
			start = cp.Offset
		}
		size, err := s.scanSegment(seq, start, last)
		if err != nil {
			return err
		}
		s.actSeq = seq
		s.actSize = size
	}
	if len(s.recs) > 0 && s.recs[0].seg == cp.Segment && s.recs[0].off == cp.Offset && cp.Skip > 0 {
		if cp.Skip >= s.recs[0].items {
			s.popLocked()
		} else {
			s.skip = cp.Skip
		}
	}
	if len(live) > 0 && s.actSize < s.opts.SegmentBytes {
		f, err := os.OpenFile(s.segPath(s.actSeq), os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		s.active = f
	}
	return nil
}

// segments lists segment sequence numbers in ascending order.
func (s *Spool) segments() ([]int64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segmentSuffix) || !e.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseInt(strings.TrimSuffix(name, segmentSuffix), 10, 64)
		if err != nil || seq <= 0 {
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, nil
}

func (s *Spool) segPath(seq int64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, segmentSuffix))
}

// scanSegment indexes the records of one segment from start and returns
// the size of the segment's valid part. A bad record in the last segment
// truncates it there; elsewhere the rest of the segment is skipped.
func (s *Spool) scanSegment(seq, start int64, last bool) (int64, error) {
	path := s.segPath(seq)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if start > int64(len(data)) {
		s.log.Warn("spool: checkpoint beyond the end of its segment", "segment", path, "offset", start, "size", len(data))
		start = int64(len(data))
	}
	recs, good, scanErr := scanRecords(data[start:])
	for _, r := range recs {
		r.seg = seq
		r.off += start
		s.pushLocked(r)
	}
	end := start + int64(good)
	if scanErr == nil {
		return end, nil
	}
	s.stats.Corrupt++
	s.unreportedCorrupt++
	lost := int64(len(data)) - end
	if !last {
		s.log.Warn("spool: corrupt record, rest of segment skipped", "segment", path, "offset", end, "bytes_lost", lost, "err", scanErr)
		return int64(len(data)), nil
	}
	s.log.Warn("spool: torn or corrupt tail cut off (a crash during an append?)", "segment", path, "offset", end, "bytes_lost", lost, "err", scanErr)
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := f.Truncate(end); err != nil {
		return 0, fmt.Errorf("truncate torn segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("truncate torn segment: %w", err)
	}
	return end, nil
}

// Errors found when decoding spool records.
var (
	errTornRecord    = errors.New("truncated record")
	errRecordLength  = errors.New("impossible record length")
	errRecordCRC     = errors.New("record checksum mismatch")
	errRecordPayload = errors.New("record payload is not an object with an append time and items")
)

// record is the payload of a spool record.
type record struct {
	// Appended is when the record was appended, in Unix seconds.
	Appended int64 `json:"appended"`
	// Items are the values, never empty.
	Items []Item `json:"items"`
	// Held marks values appended by AppendHeld.
	Held bool `json:"held,omitempty"`
	// RefusedSince is when the server first refused held values, in Unix
	// seconds; 0 before.
	RefusedSince int64 `json:"refused_since,omitempty"`
}

// marshalRecord encodes the payload of a record.
func marshalRecord(rec record) ([]byte, error) {
	return json.Marshal(rec)
}

// unmarshalRecord decodes a record payload; both members are required and
// items must not be empty.
func unmarshalRecord(payload []byte) (record, error) {
	var raw struct {
		Appended     *int64 `json:"appended"`
		Items        []Item `json:"items"`
		Held         bool   `json:"held"`
		RefusedSince int64  `json:"refused_since"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil || raw.Appended == nil || len(raw.Items) == 0 || raw.RefusedSince < 0 {
		return record{}, errRecordPayload
	}
	return record{Appended: *raw.Appended, Items: raw.Items, Held: raw.Held, RefusedSince: raw.RefusedSince}, nil
}

// encodeRecord frames a JSON payload as a spool record.
func encodeRecord(dst, payload []byte) []byte {
	var hdr [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(payload, crcTable))
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// decodeRecord decodes the record at the start of data and returns it with
// its total size.
func decodeRecord(data []byte) (record, int, error) {
	if len(data) < recordHeaderSize {
		return record{}, 0, errTornRecord
	}
	n := binary.LittleEndian.Uint32(data[0:])
	sum := binary.LittleEndian.Uint32(data[4:])
	if n == 0 || n > maxRecordPayload {
		return record{}, 0, fmt.Errorf("%w: %d", errRecordLength, n)
	}
	if uint64(len(data)-recordHeaderSize) < uint64(n) {
		return record{}, 0, errTornRecord
	}
	payload := data[recordHeaderSize : recordHeaderSize+int(n)]
	if crc32.Checksum(payload, crcTable) != sum {
		return record{}, 0, errRecordCRC
	}
	rec, err := unmarshalRecord(payload)
	if err != nil {
		return record{}, 0, err
	}
	return rec, recordHeaderSize + int(n), nil
}

// scanRecords indexes the records in data; good is the length of the valid
// prefix and err says why scanning stopped early.
func scanRecords(data []byte) (recs []recRef, good int, err error) {
	for good < len(data) {
		rec, n, err := decodeRecord(data[good:])
		if err != nil {
			return recs, good, err
		}
		recs = append(recs, recRef{off: int64(good), size: int64(n), items: len(rec.Items),
			oldest: oldestClock(rec.Items), appended: rec.Appended, held: rec.Held, refused: rec.RefusedSince})
		good += n
	}
	return recs, good, nil
}

// oldestClock returns the smallest clock of items.
func oldestClock(items []Item) (oldest int64) {
	for i, it := range items {
		if i == 0 || it.Clock < oldest {
			oldest = it.Clock
		}
	}
	return oldest
}

func (s *Spool) pushLocked(r recRef) {
	r.num = s.nextNum
	s.nextNum++
	s.recs = append(s.recs, r)
	s.pendSize += r.size
}

func (s *Spool) popLocked() recRef {
	r := s.recs[0]
	s.recs = s.recs[1:]
	s.pendSize -= r.size
	s.skip = 0
	return r
}

// Append stores items durably, with the current time as their append time
// (see SpoolOptions.MaxAge). Values without a clock are stamped with the
// current time first, so that they keep their time when replayed later. On
// a nil return the values are on disk.
func (s *Spool) Append(items []Item) error {
	return s.appendRecords(items, record{})
}

// AppendHeld stores, like Append, values that the server may refuse for a
// while after they were computed: values of items that discovery data sent
// just before them is about to create, which a Zabbix server accepts only
// once its configuration cache has caught up. Replay sends them one per
// packet; those refused are appended again and offered after HoldRetry,
// until HoldFor has passed since their first refusal. Nothing else in the
// spool waits for them, except records appended after them.
func (s *Spool) AppendHeld(items []Item) error {
	return s.appendRecords(items, record{Held: true})
}

// appendRecords stores items in records shaped like kind (held or not, and
// since when refused).
func (s *Spool) appendRecords(items []Item, kind record) error {
	if len(items) == 0 {
		return nil
	}
	now := s.now()
	appended := now.Unix()
	stamped := make([]Item, len(items))
	for i, it := range items {
		if it.Clock == 0 {
			it.Clock, it.NS = now.Unix(), int64(now.Nanosecond())
		}
		stamped[i] = it
	}
	var buf []byte
	var refs []recRef
	for start := 0; start < len(stamped); start += maxRecordItems {
		chunk := stamped[start:min(start+maxRecordItems, len(stamped))]
		payload, err := marshalRecord(record{Appended: appended, Items: chunk, Held: kind.Held, RefusedSince: kind.RefusedSince})
		if err != nil {
			return fmt.Errorf("spool %s: encode: %w", s.dir, err)
		}
		if len(payload) > maxRecordPayload {
			return fmt.Errorf("spool %s: record of %d bytes is too large", s.dir, len(payload))
		}
		refs = append(refs, recRef{off: int64(len(buf)), size: int64(len(payload) + recordHeaderSize), items: len(chunk),
			oldest: oldestClock(chunk), appended: appended, held: kind.Held, refused: kind.RefusedSince})
		buf = encodeRecord(buf, payload)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("spool %s: closed", s.dir)
	}
	if s.active == nil || s.actSize >= s.opts.SegmentBytes {
		if err := s.rotateLocked(); err != nil {
			return fmt.Errorf("spool %s: new segment: %w", s.dir, err)
		}
	}
	if err := s.writeLocked(buf); err != nil {
		return fmt.Errorf("spool %s: append: %w", s.dir, err)
	}
	for _, r := range refs {
		r.seg = s.actSeq
		r.off += s.actSize
		s.pushLocked(r)
	}
	s.actSize += int64(len(buf))
	s.stats.Appended += len(items)
	s.enforceLocked()
	return nil
}

// writeLocked appends buf to the active segment and syncs it. On failure it
// cuts the segment back so that no partial record stays in front of later
// appends; if even that fails, later appends go to a new segment.
func (s *Spool) writeLocked(buf []byte) error {
	_, err := s.active.Write(buf)
	if err == nil {
		err = s.active.Sync()
	}
	if err == nil {
		return nil
	}
	if terr := s.active.Truncate(s.actSize); terr != nil || s.active.Sync() != nil {
		s.active.Close()
		s.active = nil
	}
	return err
}

// rotateLocked closes the active segment and creates the next one.
func (s *Spool) rotateLocked() error {
	if s.active != nil {
		if err := s.active.Close(); err != nil {
			return err
		}
		s.active = nil
	}
	seq := s.actSeq + 1
	f, err := os.OpenFile(s.segPath(seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(s.segPath(seq))
		return err
	}
	s.active, s.actSeq, s.actSize = f, seq, 0
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// enforceLocked drops the oldest records beyond MaxBytes or MaxAge. Records
// are appended in time order, so the ones over MaxAge are at the front.
func (s *Spool) enforceLocked() {
	dropped, records := 0, 0
	ageBound := s.opts.MaxAge > 0
	var cutoff int64
	if ageBound {
		cutoff = s.now().Add(-s.opts.MaxAge).Unix()
	}
	for len(s.recs) > 0 {
		over := s.opts.MaxBytes > 0 && s.pendSize > s.opts.MaxBytes
		old := ageBound && s.recs[0].appended < cutoff
		if !over && !old {
			break
		}
		n := s.recs[0].items - s.skip
		s.popLocked()
		dropped += n
		records++
	}
	if dropped == 0 {
		return
	}
	s.stats.Dropped += dropped
	s.unreportedDropped += dropped
	s.log.Warn("spool: dropped oldest values beyond the spool bounds", "dir", s.dir, "values", dropped, "records", records,
		"max_bytes", s.opts.MaxBytes, "max_age", s.opts.MaxAge)
	if err := s.commitLocked(); err != nil {
		s.log.Error("spool: cannot save checkpoint after dropping values", "dir", s.dir, "err", err)
	}
}

// commitLocked saves the replay position and deletes consumed segments.
func (s *Spool) commitLocked() error {
	cp := checkpoint{Segment: s.actSeq, Offset: s.actSize}
	if len(s.recs) > 0 {
		cp = checkpoint{Segment: s.recs[0].seg, Offset: s.recs[0].off, Skip: s.skip}
	}
	data, _ := json.Marshal(cp)
	if err := writeFileAtomic(s.dir, checkpointName, data); err != nil {
		return err
	}
	seqs, err := s.segments()
	if err != nil {
		return err
	}
	for _, seq := range seqs {
		drop := seq < cp.Segment
		if seq == s.actSeq && len(s.recs) == 0 {
			// Everything is consumed: retire the active segment too.
			if s.active != nil {
				s.active.Close()
				s.active = nil
			}
			drop = true
		}
		if drop {
			if err := os.Remove(s.segPath(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// writeFileAtomic replaces dir/name with data: temp file, fsync, rename,
// fsync of the directory.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// Depth reports what is pending.
func (s *Spool) Depth() Depth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.depthLocked()
}

func (s *Spool) depthLocked() Depth {
	d := Depth{Records: len(s.recs), Bytes: s.pendSize}
	for i, r := range s.recs {
		d.Items += r.items
		if i == 0 || (r.oldest != 0 && r.oldest < d.OldestClock) {
			d.OldestClock = r.oldest
		}
	}
	d.Items -= s.skip
	return d
}

// Stats returns cumulative counters since the spool was opened.
func (s *Spool) Stats() SpoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Replay hands pending values to send, oldest first, in batches of about
// SpoolOptions.ReplayBatch values, and consumes them as follows:
//   - send returns nil, or an error that is not a *DeliveryError and not a
//     context error (such as *PartialError or *RejectedError: the server
//     answered): the batch is consumed and never resent;
//   - send returns a *DeliveryError: the values it lists as undelivered,
//     if they are the tail of the batch, stay pending (otherwise the whole
//     batch does), Replay stops and returns that error;
//   - send returns a context error: the batch stays pending and Replay stops.
//
// Held records (see AppendHeld) go alone, one value per send; a value the
// server refused (a *PartialError) within HoldFor of its first refusal is
// appended again, and a held record refused less than HoldRetry ago ends
// the replay until then. Records appended while Replay runs wait for the
// next one. Progress is saved durably after every batch.
func (s *Spool) Replay(ctx context.Context, send func(context.Context, []Item) error) (st ReplayStats, err error) {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	defer func() {
		s.mu.Lock()
		st.Dropped += s.unreportedDropped
		st.Corrupt += s.unreportedCorrupt
		s.unreportedDropped, s.unreportedCorrupt = 0, 0
		st.Pending = s.depthLocked()
		s.mu.Unlock()
	}()
	s.mu.Lock()
	s.enforceLocked()
	end := s.nextNum
	s.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		batch, refs, firstSkip, err := s.nextBatch(end)
		if err != nil {
			return st, err
		}
		if len(refs) == 0 {
			return st, nil
		}
		if len(batch) == 0 {
			continue // unreadable records were dropped
		}
		if refs[0].held {
			if err := s.replayHeld(ctx, send, batch, refs[0], firstSkip, &st); err != nil {
				return st, err
			}
			continue
		}
		sendErr := send(ctx, batch)
		delivered := len(batch)
		var de *DeliveryError
		switch {
		case sendErr == nil:
		case errors.As(sendErr, &de):
			delivered = len(batch) - len(de.Undelivered)
			if delivered < 0 || !isTail(batch, de.Undelivered) {
				delivered = 0
			}
		case errors.Is(sendErr, context.Canceled) || errors.Is(sendErr, context.DeadlineExceeded):
			delivered = 0
		default:
			st.SendErrors++
			st.LastSendError = sendErr
		}
		st.Batches++
		records, err := s.consume(refs, firstSkip, delivered, delivered)
		st.Records += records
		st.Items += delivered
		if err != nil {
			return st, err
		}
		if delivered < len(batch) {
			return st, sendErr
		}
	}
}

// replayHeld offers the values of one held record, one per send, and keeps
// those the server refuses while HoldFor allows (see Replay).
func (s *Spool) replayHeld(ctx context.Context, send func(context.Context, []Item) error, batch []Item, ref recRef, firstSkip int, st *ReplayStats) error {
	now := s.now().Unix()
	since := ref.refused
	within := since == 0 || now-since < int64(s.opts.HoldFor/time.Second)
	var keep []Item
	var stopErr error
	done := 0
	for _, it := range batch {
		err := send(ctx, []Item{it})
		st.Batches++
		var de *DeliveryError
		var pe *PartialError
		if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			stopErr = err
			break
		}
		done++
		switch {
		case err == nil:
		case errors.As(err, &pe) && within:
			keep = append(keep, it)
		default:
			st.SendErrors++
			st.LastSendError = err
		}
	}
	if len(keep) > 0 {
		if since == 0 {
			since = now
		}
		if err := s.appendRecords(keep, record{Held: true, RefusedSince: since}); err != nil {
			// The record stays pending as it was: its values will be offered again.
			return err
		}
	}
	records, err := s.consume([]recRef{ref}, firstSkip, done, done-len(keep))
	st.Records += records
	st.Items += done - len(keep)
	st.Held += len(keep)
	if err != nil {
		return err
	}
	return stopErr
}

// isTail reports whether tail equals the end of all.
func isTail(all, tail []Item) bool {
	return len(tail) <= len(all) && slices.Equal(all[len(all)-len(tail):], tail)
}

// nextBatch reads whole records from the front, among those indexed before
// end, until the batch holds about ReplayBatch values; a held record goes
// alone, and none while it waits for HoldRetry. Unreadable records are
// dropped and counted.
func (s *Spool) nextBatch(end int64) ([]Item, []recRef, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, 0, fmt.Errorf("spool %s: closed", s.dir)
	}
	if len(s.recs) == 0 || s.recs[0].num >= end {
		return nil, nil, 0, nil
	}
	if front := s.recs[0]; front.held && front.refused != 0 && s.now().Unix()-front.appended < int64(s.opts.HoldRetry/time.Second) {
		return nil, nil, 0, nil
	}
	firstSkip := s.skip
	var batch []Item
	var refs []recRef
	files := map[int64]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i := 0; i < len(s.recs) && (len(batch) == 0 || len(batch)+s.recs[i].items <= s.opts.ReplayBatch); i++ {
		r := s.recs[i]
		if i > 0 && (r.held || s.recs[0].held || r.num >= end) {
			break
		}
		f := files[r.seg]
		if f == nil {
			var err error
			if f, err = os.Open(s.segPath(r.seg)); err != nil {
				return nil, nil, 0, fmt.Errorf("spool %s: %w", s.dir, err)
			}
			files[r.seg] = f
		}
		buf := make([]byte, r.size)
		var rec record
		_, err := f.ReadAt(buf, r.off)
		if err == nil {
			rec, _, err = decodeRecord(buf)
		}
		if err != nil {
			if i > 0 {
				break // hand over what was read; the bad record comes next
			}
			n := r.items - s.skip
			s.popLocked()
			s.stats.Corrupt++
			s.stats.Dropped += n
			s.unreportedCorrupt++
			s.unreportedDropped += n
			s.log.Warn("spool: unreadable record dropped", "dir", s.dir, "segment", r.seg, "offset", r.off, "values", n, "err", err)
			if cerr := s.commitLocked(); cerr != nil {
				return nil, nil, 0, fmt.Errorf("spool %s: %w", s.dir, cerr)
			}
			return nil, []recRef{r}, 0, nil
		}
		items := rec.Items
		if i == 0 {
			items = items[min(s.skip, len(items)):]
		}
		batch = append(batch, items...)
		refs = append(refs, r)
	}
	return batch, refs, firstSkip, nil
}

// consume marks the first delivered values of the batch made of refs as
// consumed, of which replayed left the spool (the rest were appended again),
// and saves the position. Records dropped meanwhile are simply passed over.
func (s *Spool) consume(refs []recRef, firstSkip, delivered, replayed int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Replayed += replayed
	left := delivered
	records := 0
	for i, r := range refs {
		avail := r.items
		if i == 0 {
			avail -= firstSkip
		}
		present := len(s.recs) > 0 && s.recs[0].seg == r.seg && s.recs[0].off == r.off
		if left >= avail {
			left -= avail
			if present {
				s.popLocked()
			}
			records++
			continue
		}
		if present && left > 0 {
			s.skip += left
		}
		break
	}
	if delivered == 0 {
		return records, nil
	}
	if err := s.commitLocked(); err != nil {
		return records, fmt.Errorf("spool %s: save checkpoint: %w", s.dir, err)
	}
	return records, nil
}

// Close releases the spool's files. Pending values stay on disk.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.active != nil {
		errs = append(errs, s.active.Close())
		s.active = nil
	}
	errs = append(errs, s.lock.Close())
	return errors.Join(errs...)
}
