package templates

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// uuidNamespace prefixes every name hashed into a UUID, so that our UUIDs cannot collide with
// those of another generator hashing the same template and key names.
const uuidNamespace = "moodle-zabbix"

// UUID returns the deterministic UUID of a template object: the first 16 bytes of the SHA-256
// of "moodle-zabbix/<parts joined by '/'>", with the version nibble set to 4 and the variant
// bits to 10, written as 32 lowercase hexadecimal digits as Zabbix expects. The same name always
// gives the same UUID, so re-importing a regenerated template updates objects in place and
// keeps their history.
func UUID(parts ...string) string {
	sum := sha256.Sum256([]byte(uuidNamespace + "/" + strings.Join(parts, "/")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b)
}

// ValidUUID reports whether s has the shape Zabbix requires of an imported UUID: 32 lowercase
// hexadecimal digits of a version 4, variant 10 UUID.
func ValidUUID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	if s[12] != '4' {
		return false
	}
	switch s[16] {
	case '8', '9', 'a', 'b':
		return true
	}
	return false
}
