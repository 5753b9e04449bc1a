package webhook

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// maxDetailBytes bounds how much of a receiver's answer goes into a detail;
// longer bodies are replaced by the status text, since a long body is an
// error page or a dump, not a message meant for an operator.
const maxDetailBytes = 200

// classify turns a receiver's HTTP answer into nil (accepted), a
// *destination.RetryableError or a *destination.PermanentError. The table in
// errors_test.go is the contract:
//
//	2xx               accepted (every event delivered)
//	408               retry "timeout", after Retry-After
//	429               retry "throttled", after Retry-After
//	5xx               retry "platform_unavailable", after Retry-After
//	401, 403          permanent "auth_error", credential (the secret is wrong)
//	413               permanent "payload_too_large" (lower batch_size)
//	other 3xx and 4xx permanent "http_<code>"
func classify(status int, header http.Header, body []byte) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusRequestTimeout:
		return &destination.RetryableError{Reason: "timeout", Detail: statusDetail(status, body), After: retryAfter(header)}
	case status == http.StatusTooManyRequests:
		return &destination.RetryableError{Reason: "throttled", Detail: statusDetail(status, body), After: retryAfter(header)}
	case status >= 500:
		return &destination.RetryableError{Reason: "platform_unavailable", Detail: statusDetail(status, body), After: retryAfter(header)}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &destination.PermanentError{Reason: "auth_error", Credential: true,
			Detail: statusDetail(status, body) + " (the receiver refused the signature: check the secret in secret_env)"}
	case status == http.StatusRequestEntityTooLarge:
		return &destination.PermanentError{Reason: "payload_too_large",
			Detail: statusDetail(status, body) + " (lower batch_size)"}
	case status >= 300 && status < 400:
		return &destination.PermanentError{Reason: "http_" + strconv.Itoa(status),
			Detail: statusDetail(status, body) + " (redirects are not followed: set url to the final address)"}
	default:
		return &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: statusDetail(status, body)}
	}
}

// statusDetail is "HTTP <code>: <message>", the message taken from a short
// answer: a JSON "error" or "message" string, or a short plain body. The
// payload holds no raw personal data, so a receiver echoing it cannot leak
// any; the bound keeps error pages and dumps out of logs and outcomes.
func statusDetail(status int, body []byte) string {
	msg := receiverMessage(body)
	if msg == "" {
		msg = http.StatusText(status)
	}
	return "HTTP " + strconv.Itoa(status) + ": " + msg
}

func receiverMessage(body []byte) string {
	if len(body) == 0 || len(body) > maxDetailBytes || !utf8.Valid(body) {
		return ""
	}
	var envelope struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &envelope) == nil {
		var s string
		var nested struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(envelope.Error, &s) == nil && s != "":
			return clean(s)
		case json.Unmarshal(envelope.Error, &nested) == nil && nested.Message != "":
			return clean(nested.Message)
		case envelope.Message != "":
			return clean(envelope.Message)
		}
	}
	return clean(string(body))
}

// clean makes s one printable line.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// retryAfter reads a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
