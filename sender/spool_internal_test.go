package sender

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestSpoolRecordRoundTrip(t *testing.T) {
	items := []Item{{Host: "h", Key: "k", Value: "v\x00\"", Clock: 5, NS: 6}, {Host: "é", Key: "k2", Value: "", Clock: 7}}
	payload, _ := json.Marshal(items)
	rec := encodeRecord(nil, payload)
	got, n, err := decodeRecord(append(rec, 0xff, 0xff))
	if err != nil || n != len(rec) || !reflect.DeepEqual(got, items) {
		t.Fatalf("got %v n=%d err=%v", got, n, err)
	}
	for cut := 0; cut < len(rec); cut++ {
		if _, _, err := decodeRecord(rec[:cut]); err == nil {
			t.Fatalf("truncated record of %d/%d bytes accepted", cut, len(rec))
		}
	}
	for i := range rec {
		bad := append([]byte(nil), rec...)
		bad[i] ^= 0x01
		if _, _, err := decodeRecord(bad); err == nil {
			t.Fatalf("record with byte %d flipped accepted", i)
		}
	}
	if _, _, err := decodeRecord(make([]byte, 64)); err == nil {
		t.Fatal("zero-filled tail accepted as a record")
	}
}

func FuzzSpoolRecord(f *testing.F) {
	payload, _ := json.Marshal([]Item{{Host: "h", Key: "k", Value: "1", Clock: 1}})
	good := encodeRecord(nil, payload)
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), good[:5]...))
	f.Add(make([]byte, 16))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, good, err := scanRecords(data)
		if good > len(data) || (err == nil && good != len(data)) {
			t.Fatalf("good prefix %d of %d, err %v", good, len(data), err)
		}
		off := 0
		for _, r := range recs {
			if r.off != int64(off) || r.items <= 0 {
				t.Fatalf("bad index %+v", r)
			}
			items, n, err := decodeRecord(data[off:])
			if err != nil || len(items) != r.items {
				t.Fatalf("indexed record does not decode: %v", err)
			}
			// Re-encoding what decoded must decode to the same items.
			p, _ := json.Marshal(items)
			back, _, err := decodeRecord(encodeRecord(nil, p))
			if err != nil || !reflect.DeepEqual(back, items) {
				t.Fatalf("round trip: %v", err)
			}
			off += n
		}
	})
}
