package sender

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestSpoolRecordRoundTrip(t *testing.T) {
	items := []Item{{Host: "h", Key: "k", Value: "v\x00\"", Clock: 5, NS: 6}, {Host: "é", Key: "k2", Value: "", Clock: 7}}
	payload, err := marshalRecord(record{Appended: 1700000000, Items: items})
	if err != nil {
		t.Fatal(err)
	}
	rec := encodeRecord(nil, payload)
	got, n, err := decodeRecord(append(rec, 0xff, 0xff))
	if err != nil || n != len(rec) || got.Appended != 1700000000 || !reflect.DeepEqual(got.Items, items) {
		t.Fatalf("got %+v n=%d err=%v", got, n, err)
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
	held := record{Appended: 1700000000, Items: items, Held: true, RefusedSince: 1700000100}
	payload, err = marshalRecord(held)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := decodeRecord(encodeRecord(nil, payload)); err != nil || !reflect.DeepEqual(got, held) {
		t.Fatalf("held record: got %+v, %v; want %+v", got, err, held)
	}
}

// TestSpoolRecordBadPayload checks that framed payloads with a valid
// checksum but an unusable content are refused.
func TestSpoolRecordBadPayload(t *testing.T) {
	tests := []struct {
		name, payload string
	}{
		{"array of items (no append time)", `[{"host":"h","key":"k","value":"1"}]`},
		{"no append time", `{"items":[{"host":"h","key":"k","value":"1"}]}`},
		{"null append time", `{"appended":null,"items":[{"host":"h","key":"k","value":"1"}]}`},
		{"no items", `{"appended":1}`},
		{"empty items", `{"appended":1,"items":[]}`},
		{"append time not a number", `{"appended":"1","items":[{"host":"h","key":"k","value":"1"}]}`},
		{"items not an array", `{"appended":1,"items":{}}`},
		{"not JSON", `{"appended":1,`},
		{"null", `null`},
		{"held not a boolean", `{"appended":1,"held":1,"items":[{"host":"h","key":"k","value":"1"}]}`},
		{"negative refusal time", `{"appended":1,"held":true,"refused_since":-1,"items":[{"host":"h","key":"k","value":"1"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rec, _, err := decodeRecord(encodeRecord(nil, []byte(tc.payload))); err == nil {
				t.Fatalf("accepted as %+v", rec)
			}
		})
	}
}

func FuzzSpoolRecord(f *testing.F) {
	payload, _ := marshalRecord(record{Appended: 1700000000, Items: []Item{{Host: "h", Key: "k", Value: "1", Clock: 1}}})
	good := encodeRecord(nil, payload)
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), good[:5]...))
	f.Add(append(append([]byte(nil), good...), good...))
	legacy, _ := json.Marshal([]Item{{Host: "h", Key: "k", Value: "1", Clock: 1}})
	f.Add(encodeRecord(nil, legacy))
	f.Add(encodeRecord(nil, []byte(`{"appended":-5,"items":[{"host":"","key":"","value":""}]}`)))
	held, _ := marshalRecord(record{Appended: 1700000000, Items: []Item{{Host: "h", Key: "k", Value: "1", Clock: 1}}, Held: true, RefusedSince: 1700000001})
	f.Add(encodeRecord(nil, held))
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
			rec, n, err := decodeRecord(data[off:])
			if err != nil || len(rec.Items) != r.items || rec.Appended != r.appended || int64(n) != r.size {
				t.Fatalf("indexed record %+v does not decode alike: %+v, %v", r, rec, err)
			}
			// Re-encoding what decoded must decode to the same record.
			p, err := marshalRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			back, _, err := decodeRecord(encodeRecord(nil, p))
			if err != nil || !reflect.DeepEqual(back, rec) {
				t.Fatalf("round trip: %+v, %v", back, err)
			}
			off += n
		}
	})
}
