package sender

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     Result
		rejected string
		bad      bool
	}{
		{name: "success", in: `{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: 0.000109"}`,
			want: Result{Processed: 1, Total: 1, Spent: 109 * time.Microsecond}},
		{name: "failures", in: `{"info":"processed: 3; failed: 2; total: 5; seconds spent: 1.5","response":"success"}`,
			want: Result{Processed: 3, Failed: 2, Total: 5, Spent: 1500 * time.Millisecond}},
		{name: "no seconds", in: `{"response":"success","info":"processed: 0; failed: 1; total: 1"}`,
			want: Result{Failed: 1, Total: 1}},
		{name: "extra members", in: `{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: 0","version":"6.0.14"}`,
			want: Result{Processed: 1, Total: 1}},
		{name: "failed", in: `{"response":"failed","info":"cannot find pair with name \"data\""}`, rejected: `cannot find pair with name "data"`},
		{name: "not json", in: `<html>`, bad: true},
		{name: "no response", in: `{"info":"processed: 1; failed: 0; total: 1"}`, bad: true},
		{name: "unknown response", in: `{"response":"maybe","info":"processed: 1; failed: 0; total: 1"}`, bad: true},
		{name: "success without info", in: `{"response":"success"}`, bad: true},
		{name: "missing total", in: `{"response":"success","info":"processed: 1; failed: 0"}`, bad: true},
		{name: "negative", in: `{"response":"success","info":"processed: -1; failed: 0; total: 1"}`, bad: true},
		{name: "not a number", in: `{"response":"success","info":"processed: x; failed: 0; total: 1"}`, bad: true},
		{name: "huge seconds", in: `{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: 1e300"}`, bad: true},
		{name: "nan seconds", in: `{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: NaN"}`, bad: true},
		{name: "response not a string", in: `{"response":1}`, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseReply([]byte(tc.in))
			var rej *RejectedError
			switch {
			case tc.rejected != "":
				if !errors.As(err, &rej) || rej.Info != tc.rejected {
					t.Fatalf("err %v, want rejection %q", err, tc.rejected)
				}
			case tc.bad:
				if !errors.Is(err, ErrMalformedReply) {
					t.Fatalf("err %v, want ErrMalformedReply", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add([]byte(`{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: 0.000109"}`))
	f.Add([]byte(`{"response":"failed","info":"x"}`))
	f.Add([]byte(`{"response":"success","info":"processed: 9999999999999999999; failed: ; total: 1"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ParseReply(in)
		if err != nil {
			return
		}
		if res.Processed < 0 || res.Failed < 0 || res.Total < 0 || res.Spent < 0 {
			t.Fatalf("negative counts accepted: %+v", res)
		}
	})
}

func TestResultAdd(t *testing.T) {
	var r Result
	r.Add(Result{Processed: 2, Failed: 1, Total: 3, Spent: time.Second})
	r.Add(Result{Processed: 5, Total: 5, Spent: time.Second})
	if want := (Result{Processed: 7, Failed: 1, Total: 8, Spent: 2 * time.Second}); r != want {
		t.Fatalf("got %+v, want %+v", r, want)
	}
}

func TestEncodeRequest(t *testing.T) {
	now := time.Unix(1795292192, 123)
	got, err := EncodeRequest([]Item{
		{Host: "h", Key: "k", Value: "42"},
		{Host: "h", Key: "k[<a&b>]", Value: `x"y`, Clock: 1700000000, NS: 0},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"request":"sender data","data":[{"host":"h","key":"k","value":"42"},` +
		`{"host":"h","key":"k[<a&b>]","value":"x\"y","clock":1700000000,"ns":0}],"clock":1795292192,"ns":123}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("invalid JSON")
	}
}

func TestSanitize(t *testing.T) {
	long := strings.Repeat("a", MaxValueBytes-1) + "é" // é straddles the limit
	tests := []struct {
		name   string
		in     Item
		strict bool
		want   string
		err    string
	}{
		{name: "valid", in: Item{Key: "k", Value: "héllo"}, want: "héllo"},
		{name: "invalid replaced", in: Item{Key: "k", Value: "a\xffb"}, want: "a\uFFFDb"},
		{name: "invalid refused", in: Item{Host: "h", Key: "moodle.k", Value: "a\xffb"}, strict: true, err: `"moodle.k"`},
		{name: "invalid key refused", in: Item{Host: "h", Key: "k\xff", Value: "v"}, strict: true, err: "key"},
		{name: "cut at rune boundary", in: Item{Key: "k", Value: long}, want: strings.Repeat("a", MaxValueBytes-1)},
		{name: "exact limit kept", in: Item{Key: "k", Value: strings.Repeat("b", MaxValueBytes)}, want: strings.Repeat("b", MaxValueBytes)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SanitizeItems([]Item{tc.in}, tc.strict)
			if tc.err != "" {
				var ve *ValueError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want a ValueError mentioning %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Value != tc.want {
				t.Fatalf("value %q (%d bytes), want %d bytes", trunc(got[0].Value), len(got[0].Value), len(tc.want))
			}
			if !utf8.ValidString(got[0].Value) || len(got[0].Value) > MaxValueBytes {
				t.Fatal("sanitized value still invalid")
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
