package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// redacted is what every printing or encoding path shows for a Secret.
const redacted = "[redacted]"

// maxSecretFile bounds how much of a file:/path secret is read.
const maxSecretFile = 64 << 10

// Secret is a configuration value that must never be printed: a database DSN
// with its password, an API token. In YAML it is a string that is either
// env:NAME (read from the environment when the file is loaded), file:/path
// (the file's content without its trailing newline; a relative path is
// relative to the configuration file) or the value itself. Every way of
// printing or encoding a Secret yields "[redacted]"; only Reveal returns the
// value. The zero Secret is unset.
type Secret struct {
	// The value sits behind a pointer so that reflection-based printers that
	// bypass the methods below see an address, not the text.
	b *secretBox
}

type secretBox struct {
	ref   string // "env:NAME", "file:/path" or "literal"; never the value
	value string
}

// NewSecret returns a Secret holding value, as a literal in the file would.
func NewSecret(value string) Secret {
	if value == "" {
		return Secret{}
	}
	return Secret{b: &secretBox{ref: "literal", value: value}}
}

// Reveal returns the secret value, empty when unset. Call it only where the
// value is used (a connection string, an authorization header).
func (s Secret) Reveal() string {
	if s.b == nil {
		return ""
	}
	return s.b.value
}

// IsSet reports whether the configuration gave a value.
func (s Secret) IsSet() bool { return s.b != nil }

// Ref tells where the value came from without revealing it: "env:NAME",
// "file:/path", "literal", or "" when unset.
func (s Secret) Ref() string {
	if s.b == nil {
		return ""
	}
	return s.b.ref
}

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", for the %#v verb.
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" whatever the verb and flags.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue makes log/slog print "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes the Secret as the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes the Secret as "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML encodes the Secret as the string "[redacted]".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// UnmarshalYAML records the reference (or the literal value) from a YAML
// scalar; env: and file: references are resolved later, when the whole file
// is validated, so that every problem is reported at once.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		tag := "!!map"
		if n.Kind != yaml.MappingNode {
			tag = "!!seq"
		}
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into config.Secret", n.Line, tag)}}
	}
	switch v := n.Value; {
	case v == "":
		*s = Secret{}
	case strings.HasPrefix(v, "env:"), strings.HasPrefix(v, "file:"):
		*s = Secret{b: &secretBox{ref: v}}
	default:
		*s = Secret{b: &secretBox{ref: "literal", value: v}}
	}
	return nil
}

// resolve reads an env: or file: reference. dir is the directory relative
// file paths start from. Errors name the variable or file, never a value.
func (s *Secret) resolve(getenv func(string) (string, bool), dir string) error {
	if s.b == nil || s.b.ref == "literal" {
		return nil
	}
	ref := s.b.ref
	s.b = nil // an unresolved reference must never be mistaken for a value
	switch {
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return fmt.Errorf("%q is not an environment variable name", name)
		}
		v, ok := getenv(name)
		if !ok {
			return fmt.Errorf("environment variable %s is not set", name)
		}
		if v == "" {
			return fmt.Errorf("environment variable %s is empty", name)
		}
		*s = Secret{b: &secretBox{ref: ref, value: v}}
	case strings.HasPrefix(ref, "file:"):
		path := strings.TrimPrefix(ref, "file:")
		if path == "" {
			return errors.New("file: needs a path")
		}
		v, err := readSecretFile(resolvePath(dir, path))
		if err != nil {
			return err
		}
		*s = Secret{b: &secretBox{ref: ref, value: v}}
	}
	return nil
}

// readSecretFile returns the content of a regular file without its trailing
// line breaks. Devices and pipes are refused so that a typo cannot block the
// program on /dev/stdin.
func readSecretFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("secret file %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w", path, err)
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("secret file %s: larger than %d bytes", path, maxSecretFile)
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		return "", fmt.Errorf("secret file %s: empty", path)
	}
	return v, nil
}

// resolvePath makes a relative path relative to dir.
func resolvePath(dir, path string) string {
	if path == "" || filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}
