package sender

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteSenderInput writes items as an input file for
// "zabbix_sender -T -N -i FILE": one line per value,
//
//	"host" "key" clock ns "value"
//
// Host, key and value are always double-quoted, with `"` and `\` escaped by
// a backslash, which is how zabbix_sender reads quoted fields. Values are
// sanitized like Client.Send does (invalid UTF-8 replaced, cut at
// MaxValueBytes). Items without a clock get the current time, because -T
// requires one on every line. The format is line based and cannot carry a
// newline or NUL byte in any field, nor the host name "-" (zabbix_sender's
// placeholder for its configured host): such items are refused with a
// *ValueError and nothing after them is written.
//
// This is the way to send over TLS with a pre-shared key, which Go's
// crypto/tls cannot do: the official binary reads the file and encrypts.
func WriteSenderInput(w io.Writer, items []Item) error {
	now := time.Now()
	bw := bufio.NewWriter(w)
	line := make([]byte, 0, 256)
	for _, it := range items {
		clean, err := sanitizeItem(it, false)
		if err != nil {
			return err
		}
		if err := checkInputField(clean, "host", clean.Host); err != nil {
			return err
		}
		if clean.Host == "-" {
			return &ValueError{Host: clean.Host, Key: clean.Key, Field: "host", Err: errors.New(`"-" means the default host to zabbix_sender`)}
		}
		if err := checkInputField(clean, "key", clean.Key); err != nil {
			return err
		}
		if err := checkInputField(clean, "value", clean.Value); err != nil {
			return err
		}
		clock, ns := clean.Clock, clean.NS
		if clock == 0 {
			clock, ns = now.Unix(), int64(now.Nanosecond())
		}
		line = line[:0]
		line = appendQuoted(line, clean.Host)
		line = append(line, ' ')
		line = appendQuoted(line, clean.Key)
		line = append(line, ' ')
		line = strconv.AppendInt(line, clock, 10)
		line = append(line, ' ')
		line = strconv.AppendInt(line, ns, 10)
		line = append(line, ' ')
		line = appendQuoted(line, clean.Value)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// checkInputField refuses what the line-based input format cannot carry.
func checkInputField(it Item, field, s string) error {
	switch {
	case s == "" && field != "value":
		return &ValueError{Host: it.Host, Key: it.Key, Field: field, Err: errors.New("empty")}
	case strings.ContainsAny(s, "\n\x00"):
		return &ValueError{Host: it.Host, Key: it.Key, Field: field, Err: errors.New("contains a newline or NUL byte, which a zabbix_sender input file cannot hold")}
	}
	return nil
}

// appendQuoted appends s in double quotes with `"` and `\` backslash-escaped.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}
