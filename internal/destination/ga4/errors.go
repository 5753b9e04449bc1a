package ga4

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// DefaultThrottleBackoff is waited after a 429 without Retry-After.
const DefaultThrottleBackoff = 30 * time.Second

// classify turns a collection answer into nil or an error (table in
// errors_test.go). GA4 answers 2xx even to payloads it drops, so a 2xx only
// says the request arrived:
//
//	2xx            accepted
//	408            retry "timeout"
//	429            retry "throttled", Retry-After or 30 s
//	5xx            retry "platform_unavailable"
//	401, 403       permanent "auth_error", credential (check api_secret_env)
//	413            permanent "payload_too_large" (GA4 takes 130 kB)
//	other 4xx      permanent "http_<code>"
func classify(status int, header http.Header) error {
	after := destination.ParseRetryAfter(header)
	detail := "HTTP " + strconv.Itoa(status) + ": " + http.StatusText(status)
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusRequestTimeout:
		return &destination.RetryableError{Reason: "timeout", Detail: detail, After: after}
	case status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case status >= 500:
		return &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &destination.PermanentError{Reason: "auth_error", Detail: detail + " (check the API secret and the stream id)", Credential: true}
	case status == http.StatusRequestEntityTooLarge:
		return &destination.PermanentError{Reason: "payload_too_large", Detail: detail + " (GA4 takes at most 130 kB per request)"}
	default:
		return &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: detail}
	}
}

// validationMessage is one message of the validation server.
type validationMessage struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}

var (
	pathIndexRe = regexp.MustCompile(`^events\[(\d+)\]`)
	descIndexRe = regexp.MustCompile(`index: \[(\d+)\]`)
)

// validationResults turns the validation server's answer for a request of
// n events into per-event results: an event named by a message (fieldPath
// events[i]…, or "index: [i]" in the description, as GA4 writes it) is
// Rejected with the message's code; a message about the request as a whole
// (client_id, user_data, …) rejects every event; the rest are Delivered
// (valid; in validate mode GA4 stores nothing).
func validationResults(n int, body []byte) ([]destination.Result, error) {
	var v struct {
		ValidationMessages []validationMessage `json:"validationMessages"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, &destination.RetryableError{Reason: "bad_response", Detail: "the validation server's answer is unreadable"}
	}
	res := make([]destination.Result, n)
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered, Detail: "validated; GA4 stores nothing in validate mode"}
	}
	for _, m := range v.ValidationMessages {
		r := destination.Result{Status: destination.Rejected, Reason: strings.ToLower(m.ValidationCode), Detail: m.FieldPath + ": " + destination.PlatformMessage(m.Description)}
		if r.Reason == "" {
			r.Reason = "invalid"
		}
		idx := -1
		if s := pathIndexRe.FindStringSubmatch(m.FieldPath); s != nil {
			idx, _ = strconv.Atoi(s[1])
		} else if s := descIndexRe.FindStringSubmatch(m.Description); s != nil && strings.HasPrefix(m.FieldPath, "events") {
			idx, _ = strconv.Atoi(s[1])
		}
		switch {
		case idx >= 0 && idx < n:
			res[idx] = r
		case idx < 0:
			for i := range res {
				res[i] = r
			}
		}
	}
	return res, nil
}
