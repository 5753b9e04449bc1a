package sandbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// faultKeyNames lists the keys a fault spec accepts, for error messages.
const faultKeyNames = "status, retry_after, latency, error_rate (rate), meta_code (code), requests, for, until"

// ParseFaultFlag parses a command-line fault such as
// "meta:status=503,rate=0.2,latency=50ms,for=30s" into the platform it is for
// and the Fault to pass to SetFault.
//
// Keys: status (4xx/5xx), retry_after, latency and for (durations such as
// "2s"; a bare number means seconds), error_rate or rate (0..1), meta_code or
// code, requests (count), until (RFC 3339 time). Errors name the bad key.
func ParseFaultFlag(s string) (platform string, f Fault, err error) {
	platform, spec, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		return "", Fault{}, fmt.Errorf("parsing fault flag %q: want platform:key=value,... (e.g. meta:status=503,for=30s)", s)
	}
	if !knownPlatform(platform) {
		return "", Fault{}, fmt.Errorf("parsing fault flag %q: unknown platform %q (want one of %s)", s, platform, emulatorNames())
	}
	seen := make(map[string]bool)
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return "", Fault{}, fmt.Errorf("parsing fault flag %q: %q is not key=value", s, item)
		}
		key = strings.TrimSpace(key)
		canon := canonicalFaultKey(key)
		if seen[canon] {
			return "", Fault{}, fmt.Errorf("parsing fault flag %q: key %q given twice", s, key)
		}
		seen[canon] = true
		if err := setFaultKey(&f, key, strings.TrimSpace(value)); err != nil {
			return "", Fault{}, fmt.Errorf("parsing fault flag %q: %w", s, err)
		}
	}
	if err := f.validate(); err != nil {
		return "", Fault{}, fmt.Errorf("parsing fault flag %q: %w", s, err)
	}
	return platform, f, nil
}

// canonicalFaultKey maps a key's aliases to its canonical name.
func canonicalFaultKey(key string) string {
	switch key {
	case "rate":
		return "error_rate"
	case "code":
		return "meta_code"
	case "retry-after":
		return "retry_after"
	}
	return key
}

// setFaultKey sets one field of f from its textual value. The flag syntax and
// the admin API's JSON both come through here, so they accept the same keys
// and report errors alike.
func setFaultKey(f *Fault, key, value string) error {
	var err error
	switch canonicalFaultKey(key) {
	case "status":
		f.Status, err = faultInt(value)
	case "retry_after":
		f.RetryAfter, err = faultDuration(value)
	case "latency":
		f.Latency, err = faultDuration(value)
	case "error_rate":
		f.ErrorRate, err = faultRate(value)
	case "meta_code":
		f.MetaCode, err = faultInt(value)
	case "requests":
		f.Requests, err = faultInt(value)
	case "for":
		f.For, err = faultDuration(value)
	case "until":
		f.Until, err = time.Parse(time.RFC3339, value)
		if err != nil {
			err = errors.New("want an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
	default:
		return fmt.Errorf("unknown key %q (want %s)", key, faultKeyNames)
	}
	if err != nil {
		return fmt.Errorf("key %q: bad value %q: %w", key, value, err)
	}
	return nil
}

func faultRate(value string) (float64, error) {
	r, err := strconv.ParseFloat(value, 64)
	if err != nil || r < 0 || r > 1 {
		return 0, errors.New("want a share between 0 and 1")
	}
	return r, nil
}

func faultInt(value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, errors.New("want a whole number")
	}
	if n < 0 {
		return 0, errors.New("must not be negative")
	}
	return n, nil
}

// faultDuration parses a Go duration ("1.5s", "200ms"); a bare number means
// seconds, as in a Retry-After header.
func faultDuration(value string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(value, 64); err == nil {
		if secs < 0 {
			return 0, errors.New("must not be negative")
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, errors.New(`want a duration such as "500ms" or "30s"`)
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}
