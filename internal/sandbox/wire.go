package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// This file holds the JSON checks the TikTok, Snapchat and Pinterest
// emulators share. Their bodies are decoded generically (numbers kept as
// json.Number) so that a field of the wrong type is reported by name rather
// than failing the whole decode.

// wireMaxBodyBytes bounds a request body for these emulators.
const wireMaxBodyBytes = 5 << 20

// errWireTooLarge reports a body over wireMaxBodyBytes.
var errWireTooLarge = errors.New("the request body exceeds 5 MiB")

// readWireObject reads the body as one JSON object.
func readWireObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, wireMaxBodyBytes)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errWireTooLarge
		}
		return nil, errors.New("reading the request body failed")
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, errors.New("the request body must be a JSON object")
	}
	return top, nil
}

// wireString returns v as a string and whether it is one.
func wireString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// wireUnixSeconds returns v as an integer number of seconds.
func wireUnixSeconds(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case string: // some APIs document the time as a string of digits
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil && n != "" && isDigits(n)
	}
	return 0, false
}

// Shapes a hashed field may take: one digest, a list of them, or either.
const (
	hashOne = 1 << iota
	hashList
	hashOneOrList = hashOne | hashList
)

// wireHashed reports whether v is a lowercase hex SHA-256 digest or a
// non-empty list of them, as shapes allows.
func wireHashed(v any, shapes int) bool {
	switch x := v.(type) {
	case string:
		return shapes&hashOne != 0 && isLowerSHA256Hex([]byte(x))
	case []any:
		if shapes&hashList == 0 || len(x) == 0 {
			return false
		}
		for _, e := range x {
			if s, ok := e.(string); !ok || !isLowerSHA256Hex([]byte(s)) {
				return false
			}
		}
		return true
	}
	return false
}

// wireIP reports whether s is an IPv4 or IPv6 address.
func wireIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// wireAge checks an event time in seconds against now: not older than
// maxAge and not more than skew ahead. It returns "" or the problem.
func wireAge(t int64, now time.Time, maxAge, skew time.Duration) string {
	if t < now.Add(-maxAge).Unix() {
		return "is older than " + formatDays(maxAge)
	}
	if t > now.Add(skew).Unix() {
		return "is in the future (seconds expected, not milliseconds)"
	}
	return ""
}

// compactEvent renders a decoded event back to compact JSON for its
// RecordedEvent.Raw: the sandbox keeps bytes, not maps.
func compactEvent(obj map[string]any) json.RawMessage {
	b, _ := json.Marshal(obj) // decoded from JSON, so it encodes
	return b
}

// accountTokens is which token a request may use for an account: the
// account's own when perAccount names any (a pixel, event source or ad
// account), else the platform's one token (Options.BearerTokens), else any
// non-empty token.
type accountTokens struct {
	perAccount map[string]string
	platform   string
}

func newAccountTokens(perAccount map[string]string, platform string) accountTokens {
	return accountTokens{perAccount: maps.Clone(perAccount), platform: platform}
}

// accept reports whether token may act for account.
func (a accountTokens) accept(account, token string) bool {
	want := a.platform
	if len(a.perAccount) > 0 {
		var known bool
		if want, known = a.perAccount[account]; !known {
			return false
		}
	}
	if token == "" {
		return false
	}
	return want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}
