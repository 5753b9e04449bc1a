package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
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

// PlatformStats counts what an emulator saw since it started or was reset.
type PlatformStats struct {
	// Requests is every request to the API, faulted ones included.
	Requests int64 `json:"requests"`
	// Accepted is the number of events (not requests) accepted.
	Accepted int64 `json:"accepted"`
	// Rejected is the number of requests refused in whole or in part.
	Rejected int64 `json:"rejected"`
	// Faulted is the number of requests answered by an injected fault.
	Faulted int64 `json:"faulted"`
	// Duplicates is the number of accepted events the platform would drop
	// as already seen.
	Duplicates int64 `json:"duplicates"`
	// Dropped is the number of accepted events not stored because
	// Options.MaxRecorded was reached.
	Dropped int64 `json:"dropped"`
}

func platformStats(c logCounts) PlatformStats {
	return PlatformStats{Requests: c.requests, Accepted: c.accepted, Rejected: c.rejected,
		Faulted: c.faulted, Duplicates: c.duplicates, Dropped: c.dropped}
}
