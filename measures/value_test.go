package measures

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFormatValue(t *testing.T) {
	tests := []struct {
		t    ValueType
		in   any
		want string
		bad  bool
	}{
		{Unsigned, nil, "0", false},
		{Unsigned, int64(42), "42", false},
		{Unsigned, "42", "42", false},
		{Unsigned, []byte("1234.0000"), "1234", false},
		{Unsigned, "12.6", "13", false},
		{Unsigned, "-1", "", true},
		{Unsigned, "abc", "", true},
		{Float, "2.5", "2.5", false},
		{Float, 1.0 / 3, "0.333333", false},
		{Float, "1e+06", "1000000", false},
		{Float, "-0.0000001", "0", false},
		{Float, nil, "0", false},
		{Float, 0.0003125, "0.000313", false},    // a decimal tie, rounded up however it is stored
		{Float, 27.0 / 86400, "0.000313", false}, // the same value computed in binary
		{Float, "0.00031250000000000000", "0.000313", false},
		{Float, "-2.0000005", "-2.000001", false},
		{Float, "58.82352941176470588235294", "58.823529", false},
		{Float, 58.823529411764705, "58.823529", false},
		{Float, "1234567.8", "1234567.8", false},
		{Text, nil, "", false},
		{Text, []byte("4.3 (Build: 20231009)"), "4.3 (Build: 20231009)", false},
		{Char, "2023100900.00", "2023100900.00", false},
		{Text, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z", false},
	}
	for _, tc := range tests {
		got, err := FormatValue(tc.t, tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("FormatValue(%s, %v) = %q, want an error", tc.t, tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("FormatValue(%s, %#v) = %q, %v; want %q", tc.t, tc.in, got, err, tc.want)
		}
	}
}

func TestFormatValueClipsText(t *testing.T) {
	long := strings.Repeat("é", MaxTextBytes) // two bytes each
	got, _ := FormatValue(Text, long)
	if len(got) > MaxTextBytes || !utf8.ValidString(got) {
		t.Errorf("text clipped to %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	got, _ = FormatValue(Char, strings.Repeat("x", 300))
	if utf8.RuneCountInString(got) != MaxCharRunes {
		t.Errorf("char clipped to %d characters, want %d", utf8.RuneCountInString(got), MaxCharRunes)
	}
	got, _ = FormatValue(Text, "ok\xffbad")
	if !utf8.ValidString(got) {
		t.Errorf("invalid UTF-8 kept: %q", got)
	}
}
