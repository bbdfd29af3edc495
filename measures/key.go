package measures

import (
	"errors"
	"fmt"
	"strings"
)

// ParseKey splits a Zabbix item key into its name and parameters, following Zabbix's key
// grammar: a name of letters, digits, '_', '-' and '.', optionally followed by a bracketed,
// comma-separated parameter list. A parameter is either unquoted (no ',' or ']', not starting
// with '"' or a space) or double-quoted with '\"' for a quote inside. Nested arrays are not
// used by this product and are refused.
func ParseKey(key string) (name string, params []string, err error) {
	i := 0
	for i < len(key) && isKeyNameChar(key[i]) {
		i++
	}
	if i == 0 {
		return "", nil, fmt.Errorf("key %q: must start with a letter, digit, '_', '-' or '.'", key)
	}
	name = key[:i]
	if i == len(key) {
		return name, nil, nil
	}
	if key[i] != '[' {
		return "", nil, fmt.Errorf("key %q: invalid character %q at position %d", key, key[i], i)
	}
	if key[len(key)-1] != ']' {
		return "", nil, fmt.Errorf("key %q: parameter list not closed by ']'", key)
	}
	body := key[i+1 : len(key)-1]
	params = []string{}
	p := 0
	for {
		for p < len(body) && body[p] == ' ' {
			p++
		}
		if p < len(body) && body[p] == '"' {
			var sb strings.Builder
			p++
			closed := false
			for p < len(body) {
				c := body[p]
				if c == '\\' && p+1 < len(body) && body[p+1] == '"' {
					sb.WriteByte('"')
					p += 2
					continue
				}
				if c == '"' {
					closed = true
					p++
					break
				}
				sb.WriteByte(c)
				p++
			}
			if !closed {
				return "", nil, fmt.Errorf("key %q: unterminated quoted parameter", key)
			}
			for p < len(body) && body[p] == ' ' {
				p++
			}
			params = append(params, sb.String())
			if p == len(body) {
				return name, params, nil
			}
			if body[p] != ',' {
				return "", nil, fmt.Errorf("key %q: expected ',' after quoted parameter", key)
			}
			p++
			continue
		}
		start := p
		for p < len(body) && body[p] != ',' {
			if body[p] == ']' || body[p] == '[' || body[p] == '"' {
				return "", nil, fmt.Errorf("key %q: character %q must be inside a quoted parameter", key, body[p])
			}
			p++
		}
		params = append(params, strings.TrimRight(body[start:p], " "))
		if p == len(body) {
			return name, params, nil
		}
		p++ // skip ','
	}
}

func isKeyNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// ValidateKey reports whether key follows Zabbix's item key grammar.
func ValidateKey(key string) error {
	if len(key) > 2048 {
		return errors.New("key longer than 2048 characters")
	}
	_, _, err := ParseKey(key)
	return err
}

// FormatKey builds an item key from a name and parameters, quoting each parameter that needs it.
func FormatKey(name string, params ...string) string {
	if len(params) == 0 {
		return name
	}
	var sb strings.Builder
	sb.WriteString(name)
	sb.WriteByte('[')
	for i, p := range params {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(QuoteKeyParam(p))
	}
	sb.WriteByte(']')
	return sb.String()
}

// QuoteKeyParam returns p as a key parameter: unchanged when it is safe unquoted, otherwise in
// double quotes with inner quotes escaped.
func QuoteKeyParam(p string) string {
	if p != "" && !strings.ContainsAny(p, ",]\"[") && p[0] != ' ' && p[len(p)-1] != ' ' {
		return p
	}
	if p == "" {
		return ""
	}
	return `"` + strings.ReplaceAll(p, `"`, `\"`) + `"`
}
