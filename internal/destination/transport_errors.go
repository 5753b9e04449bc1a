package destination

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// TransportFailure is the error for a request that got no HTTP answer: a
// timeout or a network failure, both worth retrying. Its detail is the
// error without its URL and with every secret replaced, since net/http
// puts the URL (and so a token in a query string) into the error text.
func TransportFailure(err error, secrets ...string) *RetryableError {
	reason := "network_error"
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		reason = "timeout"
	}
	return &RetryableError{Reason: reason, Detail: RedactError(err, secrets...)}
}

// RedactError renders err without a *url.Error's URL and with every
// non-empty secret (and its query escaping) replaced by [REDACTED].
func RedactError(err error, secrets ...string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
			s = strings.ReplaceAll(s, url.QueryEscape(secret), "[REDACTED]")
		}
	}
	return s
}

// ParseRetryAfter reads a Retry-After header given in seconds or as an HTTP
// date; 0 when absent, unreadable or in the past.
func ParseRetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// maxPlatformMessage bounds a platform message copied into a detail.
const maxPlatformMessage = 200

var (
	// quotedRe finds quoted text: platforms quote the offending value, which
	// may be personal data.
	quotedRe = regexp.MustCompile(`"[^"]*"|'[^']*'`)
	// emailRe finds an e-mail address left unquoted.
	emailRe = regexp.MustCompile(`[^\s@"'<>]+@[^\s@"'<>]+\.[A-Za-z]{2,}`)
)

// PlatformMessage makes a platform's error message safe for a detail: quoted
// values and e-mail addresses are replaced by "…", control characters by
// spaces, and the result is bounded. Outcomes and logs never carry raw
// personal data, even when a platform echoes it.
func PlatformMessage(msg string) string {
	msg = quotedRe.ReplaceAllString(msg, `"…"`)
	msg = emailRe.ReplaceAllString(msg, "…")
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	if len(msg) > maxPlatformMessage {
		msg = strings.ToValidUTF8(msg[:maxPlatformMessage], "") + "…"
	}
	return strings.TrimSpace(msg)
}
