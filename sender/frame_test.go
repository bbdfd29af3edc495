package sender

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// The header of a real 84-byte request, as captured from zabbix_sender.
func TestEncodeFrameHeaderMatchesCapture(t *testing.T) {
	payload := []byte(`{"request":"sender data","data":[{"host":"h","key":"k","value":"42"}]}`)
	payload = append(payload, strings.Repeat(" ", 84-len(payload))...)
	frame, err := EncodeFrame(payload, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x5a, 0x42, 0x58, 0x44, 0x01, 0x54, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x22}
	if !bytes.Equal(frame[:len(want)], want) {
		t.Fatalf("header % x, want % x", frame[:len(want)], want)
	}
	if len(frame) != HeaderSize+84 {
		t.Fatalf("frame length %d", len(frame))
	}
}

func TestFrameRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte(`{"host":"h","key":"k","value":"1"},`), 5000)
	tests := []struct {
		name     string
		payload  []byte
		compress bool
		flags    byte
	}{
		{"plain", []byte(`{"response":"success"}`), false, 0x01},
		{"empty", []byte{}, false, 0x01},
		{"zlib", []byte(`{"response":"success"}`), true, 0x03},
		{"zlib big", big, true, 0x03},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame, err := EncodeFrame(tc.payload, tc.compress)
			if err != nil {
				t.Fatal(err)
			}
			if frame[4] != tc.flags {
				t.Fatalf("flags 0x%02x, want 0x%02x", frame[4], tc.flags)
			}
			if tc.compress {
				if got := binary.LittleEndian.Uint32(frame[9:]); got != uint32(len(tc.payload)) {
					t.Fatalf("reserved %d, want uncompressed size %d", got, len(tc.payload))
				}
			}
			got, err := ReadFrame(bytes.NewReader(frame), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.payload) {
				t.Fatalf("payload mismatch: %d bytes, want %d", len(got), len(tc.payload))
			}
		})
	}
}

// strictReader serves data and fails the test if read past it, proving that
// ReadFrame never reads beyond the announced length (a live socket would
// block there).
type strictReader struct {
	t    *testing.T
	data []byte
}

func (r *strictReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		r.t.Error("ReadFrame read past the end of the frame")
		return 0, io.ErrNoProgress
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadFrameReadsExactly(t *testing.T) {
	for _, compress := range []bool{false, true} {
		frame, _ := EncodeFrame([]byte(`{"response":"success","info":"x"}`), compress)
		if _, err := ReadFrame(&strictReader{t: t, data: frame}, 1<<20); err != nil {
			t.Fatal(err)
		}
		// Trailing bytes stay unread.
		r := bytes.NewReader(append(frame, "TRAILER"...))
		if _, err := ReadFrame(r, 1<<20); err != nil {
			t.Fatal(err)
		}
		if r.Len() != len("TRAILER") {
			t.Fatalf("ReadFrame consumed trailing bytes: %d left", r.Len())
		}
	}
}

func header(flags byte, size, reserved uint64) []byte {
	h := []byte("ZBXD")
	h = append(h, flags)
	if flags&FlagLarge != 0 {
		h = binary.LittleEndian.AppendUint64(h, size)
		return binary.LittleEndian.AppendUint64(h, reserved)
	}
	h = binary.LittleEndian.AppendUint32(h, uint32(size))
	return binary.LittleEndian.AppendUint32(h, uint32(reserved))
}

func zlibBytes(p []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

func TestReadFrame(t *testing.T) {
	body := []byte(`{"a":1}`)
	z := zlibBytes(body)
	tests := []struct {
		name    string
		in      []byte
		max     int64
		want    string
		wantErr error
		anyErr  bool
	}{
		{name: "plain", in: append(header(0x01, 7, 0), body...), want: `{"a":1}`},
		{name: "large header", in: append(header(0x05, 7, 0), body...), want: `{"a":1}`},
		{name: "zlib", in: append(header(0x03, uint64(len(z)), 7), z...), want: `{"a":1}`},
		{name: "large zlib", in: append(header(0x07, uint64(len(z)), 7), z...), want: `{"a":1}`},
		{name: "bad magic", in: append([]byte("HTTP/1.1 400"), body...), wantErr: ErrBadMagic},
		{name: "flags zero", in: append(header(0x00, 7, 0), body...), wantErr: ErrBadFlags},
		{name: "unknown flag", in: append(header(0x09, 7, 0), body...), wantErr: ErrBadFlags},
		{name: "zlib without protocol", in: append(header(0x02, 7, 0), body...), wantErr: ErrBadFlags},
		{name: "oversize", in: header(0x01, 1<<30, 0), max: 1024, wantErr: ErrFrameTooLarge},
		{name: "oversize large", in: header(0x05, 1<<62, 0), max: 1024, wantErr: ErrFrameTooLarge},
		{name: "oversize uncompressed", in: append(header(0x03, uint64(len(z)), 1<<20), z...), max: 1024, wantErr: ErrFrameTooLarge},
		{name: "reserved on plain", in: append(header(0x01, 7, 3), body...), wantErr: ErrBadLength},
		{name: "zlib size too big", in: append(header(0x03, uint64(len(z)), 8), z...), wantErr: ErrBadCompression},
		{name: "zlib size too small", in: append(header(0x03, uint64(len(z)), 6), z...), wantErr: ErrBadCompression},
		{name: "not zlib", in: append(header(0x03, 7, 7), body...), wantErr: ErrBadCompression},
		{name: "truncated header", in: []byte("ZBXD\x01\x07"), wantErr: io.ErrUnexpectedEOF},
		{name: "truncated body", in: append(header(0x01, 100, 0), body...), wantErr: io.ErrUnexpectedEOF},
		{name: "nothing", in: nil, wantErr: io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = 1 << 20
			}
			got, err := ReadFrame(bytes.NewReader(tc.in), max)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzReadFrame(f *testing.F) {
	for _, compress := range []bool{false, true} {
		fr, _ := EncodeFrame([]byte(`{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: 0.1"}`), compress)
		f.Add(fr)
	}
	f.Add(header(0x05, 3, 0))
	f.Add(header(0x07, 1<<40, 1<<40))
	f.Add([]byte("ZBXD"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ReadFrame(bytes.NewReader(in), 1<<16)
		if err != nil {
			return
		}
		if len(got) > 1<<16 {
			t.Fatalf("payload of %d bytes exceeds the limit", len(got))
		}
		again, err := EncodeFrame(got, false)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadFrame(bytes.NewReader(again), 1<<16)
		if err != nil || !bytes.Equal(back, got) {
			t.Fatalf("re-encoded frame does not round-trip: %v", err)
		}
	})
}
