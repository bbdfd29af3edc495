package measures

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Zabbix limits on the length of stored values.
const (
	// MaxTextBytes is the longest TEXT value Zabbix stores, in bytes.
	MaxTextBytes = 65535
	// MaxCharRunes is the longest CHAR value Zabbix stores, in characters.
	MaxCharRunes = 255
	// floatDecimals is how many decimals a float value keeps, and floatScale is 10^floatDecimals.
	floatDecimals = 6
	floatScale    = 1_000_000
)

// Value is one value ready to send: an item key, its text form and the time it describes.
type Value struct {
	Key   string
	Value string
	Clock time.Time
	// Discovery marks low-level discovery JSON for a discovery rule.
	Discovery bool
	// Prototype marks a value for an item created by low-level discovery, which Zabbix accepts
	// only once its configuration cache knows the discovered item.
	Prototype bool
}

// FormatValue turns a database or Go value into the text Zabbix expects for type t. SQL NULL
// is 0 for numbers (SUM over no rows) and empty text for strings. A negative or non-finite
// number for an unsigned item is an error, as Zabbix would refuse it.
func FormatValue(t ValueType, v any) (string, error) {
	if !t.Numeric() {
		s := ""
		switch x := v.(type) {
		case nil:
		case string:
			s = x
		case []byte:
			s = string(x)
		case time.Time:
			s = x.UTC().Format(time.RFC3339)
		default:
			s = fmt.Sprint(x)
		}
		return clipText(t, s), nil
	}
	f, err := toFloat(v)
	if err != nil {
		return "", err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("value %v is not a finite number", f)
	}
	if t == Unsigned {
		r := math.Round(f)
		if r < 0 {
			return "", fmt.Errorf("value %v is negative, but the item is unsigned", f)
		}
		if r >= 1<<63 {
			return "", fmt.Errorf("value %v is too large", f)
		}
		return strconv.FormatInt(int64(r), 10), nil
	}
	return roundFloat(f), nil
}

// roundFloat formats f with at most floatDecimals decimals, rounding half away from zero in
// decimal, not in binary. Engines compute a ratio with different precisions (PostgreSQL's
// numeric, SQLite's double, MariaDB's decimal) and so may differ in the last bits of the double
// they give; f is first cut to 15 significant digits, which every engine computes alike, then
// rounded exactly, so that the same data gives the same text on every engine even when the
// value lies on a rounding tie (0.0000125 is "0.000013" whatever its binary neighbour).
func roundFloat(f float64) string {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'e', 14, 64))
	if !ok {
		return strconv.FormatFloat(f, 'f', floatDecimals, 64)
	}
	r.Mul(r, new(big.Rat).SetInt64(floatScale))
	num, den := new(big.Int).Abs(r.Num()), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Lsh(m, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	out := new(big.Rat).SetFrac(q, big.NewInt(floatScale)).FloatString(floatDecimals)
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	if out == "-0" {
		out = "0"
	}
	return out
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case []byte:
		return parseNumber(string(x))
	case string:
		return parseNumber(x)
	case time.Time:
		return float64(x.Unix()), nil
	}
	return 0, fmt.Errorf("value %v (%T) is not a number", v, v)
}

func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return float64(n), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	return f, nil
}

// clipText makes s valid UTF-8 and cuts it to Zabbix's limit for t, at a character boundary.
func clipText(t ValueType, s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if t == Char {
		if utf8.RuneCountInString(s) > MaxCharRunes {
			rs := []rune(s)
			s = string(rs[:MaxCharRunes])
		}
		return s
	}
	if len(s) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// zeroValue is what a discovered entity without a row reports.
func zeroValue(t ValueType) string {
	if t.Numeric() {
		return "0"
	}
	return ""
}
