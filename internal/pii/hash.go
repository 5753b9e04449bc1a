package pii

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// maxInputBytes bounds a single raw value. Real emails, names and addresses
// are far shorter; the cap keeps a hostile or corrupt record from costing
// more than a few microseconds.
const maxInputBytes = 1024

// Options carries the context a rule needs beyond the value itself.
type Options struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region (e.g. "US") assumed for
	// phone numbers written without a country code. Empty means such numbers
	// are rejected: they must carry their country code ('+' or "00" prefix).
	DefaultRegion string
	// Now bounds the year of a date of birth. Zero means time.Now().
	Now time.Time
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Normalize applies platform p's rule for field f to raw and returns the
// string that would be hashed. Surrounding whitespace is always removed. A
// value that is already a SHA-256 hex digest is returned lowercased, since
// there is nothing left to normalize. A rule that leaves nothing yields an
// *Error with Reason "empty": an empty string is never a valid value to hash.
// All errors are *Error.
func Normalize(p Platform, f Field, raw string, o Options) (string, error) {
	s, _, err := normalize(p, f, raw, o)
	if err != nil {
		return "", err
	}
	return s, nil
}

// Hash normalizes raw with platform p's rule for field f and returns the
// normalized value and the lowercase hex SHA-256 of it. If raw already is a
// SHA-256 hex digest (64 hex characters, any case, surrounding space ignored)
// it is returned lowercased as both normalized and hash and is never hashed
// again, so Hash is idempotent. All errors are *Error.
func Hash(p Platform, f Field, raw string, o Options) (normalized, hash string, err error) {
	s, hashed, err := normalize(p, f, raw, o)
	if err != nil {
		return "", "", err
	}
	if hashed {
		return s, s, nil
	}
	return s, SHA256Hex(s), nil
}

// normalize holds the checks every platform and field share, so a rule only
// ever sees trimmed, valid, non-empty, not-yet-hashed text. hashed reports
// the passthrough case.
func normalize(p Platform, f Field, raw string, o Options) (s string, hashed bool, err error) {
	rules, ok := rulesFor(p)
	if !ok {
		return "", false, &Error{Field: f, Reason: ReasonUnknownPlatform, detail: "supported platforms: " + joinPlatforms()}
	}
	rule := rules.rule(f)
	if rule == nil {
		if !isField(f) {
			return "", false, &Error{Field: f, Reason: ReasonUnknownField, detail: "valid fields: " + joinFields()}
		}
		return "", false, &Error{Field: f, Reason: ReasonUnsupportedField, detail: string(p) + " does not accept this field"}
	}
	if len(raw) > maxInputBytes {
		return "", false, &Error{Field: f, Reason: ReasonTooLong, detail: "longer than 1024 bytes"}
	}
	if !utf8.ValidString(raw) {
		return "", false, &Error{Field: f, Reason: ReasonInvalidUTF8, detail: "not valid UTF-8 text"}
	}
	s = strings.TrimSpace(raw)
	if s == "" {
		return "", false, &Error{Field: f, Reason: ReasonEmpty, detail: "no value"}
	}
	if IsSHA256Hex(s) {
		return strings.ToLower(s), true, nil
	}
	out, e := rule(s, o)
	if e != nil {
		e.Field = f
		return "", false, e
	}
	if out == "" {
		return "", false, &Error{Field: f, Reason: ReasonEmpty, detail: "nothing left after normalization"}
	}
	return out, false, nil
}

func isField(f Field) bool {
	for _, g := range allFields {
		if g == f {
			return true
		}
	}
	return false
}

// IsSHA256Hex reports whether s is exactly 64 hexadecimal characters (either
// case), the shape of a SHA-256 digest in hex.
func IsSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// SHA256Hex returns the lowercase hex SHA-256 digest of the UTF-8 bytes of s.
// It does no normalization; use Hash for personal data.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}
