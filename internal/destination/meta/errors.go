package meta

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// graphError is the Graph API error envelope.
type graphError struct {
	Error struct {
		Message        string `json:"message"`
		Type           string `json:"type"`
		Code           int    `json:"code"`
		ErrorSubcode   int    `json:"error_subcode"`
		ErrorUserTitle string `json:"error_user_title"`
		ErrorUserMsg   string `json:"error_user_msg"`
		FBTraceID      string `json:"fbtrace_id"`
		IsTransient    bool   `json:"is_transient"`
	} `json:"error"`
}

// successBody is CAPI's answer to an accepted request.
type successBody struct {
	EventsReceived int    `json:"events_received"`
	FBTraceID      string `json:"fbtrace_id"`
}

// DefaultThrottleBackoff is waited after a throttling answer without a
// Retry-After header.
const DefaultThrottleBackoff = 30 * time.Second

// classify turns an HTTP answer into nil (accepted, with the trace id), a
// *destination.RetryableError or a *destination.PermanentError, following
// Meta's error handling guide (see the table in errors_test.go).
func classify(status int, header http.Header, body []byte) (traceID string, err error) {
	if status >= 200 && status < 300 {
		var ok successBody
		if jerr := json.Unmarshal(body, &ok); jerr != nil {
			return "", &destination.RetryableError{Reason: "bad_response", Detail: "2xx with an unreadable body; resending is safe (event_id dedupe)"}
		}
		return ok.FBTraceID, nil
	}
	after := retryAfter(header)
	var ge graphError
	_ = json.Unmarshal(body, &ge) // a non-JSON error page leaves ge empty
	e := ge.Error
	detail := e.Message
	if e.ErrorUserMsg != "" {
		detail = e.ErrorUserMsg
	}
	if detail == "" {
		detail = http.StatusText(status)
	}
	code := strconv.Itoa(e.Code)
	switch {
	case e.Code == 190:
		return e.FBTraceID, &destination.PermanentError{Reason: "auth_error", Detail: "access token invalid or expired (code 190): " + detail, Credential: true, PlatformRef: e.FBTraceID}
	case e.Code == 10 || (e.Code >= 200 && e.Code <= 299):
		return e.FBTraceID, &destination.PermanentError{Reason: "permission_error", Detail: "permission denied (code " + code + "): " + detail, Credential: true, PlatformRef: e.FBTraceID}
	case e.Code == 4 || e.Code == 17 || e.Code == 32 || e.Code == 613 || e.Code == 341 || status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return e.FBTraceID, &destination.RetryableError{Reason: "throttled", Detail: "rate limited (code " + code + "): " + detail, After: after}
	case e.Code == 1 || e.Code == 2 || e.IsTransient || status >= 500:
		return e.FBTraceID, &destination.RetryableError{Reason: "platform_unavailable", Detail: "HTTP " + strconv.Itoa(status) + " (code " + code + "): " + detail, After: after}
	case e.Code == 100:
		return e.FBTraceID, &destination.PermanentError{Reason: "invalid_parameter", Detail: "code 100/" + strconv.Itoa(e.ErrorSubcode) + ": " + detail, PlatformRef: e.FBTraceID}
	case status == http.StatusRequestTimeout:
		return e.FBTraceID, &destination.RetryableError{Reason: "timeout", Detail: "HTTP 408", After: after}
	default:
		return e.FBTraceID, &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: detail, PlatformRef: e.FBTraceID}
	}
}

// retryAfter reads a Retry-After header given in seconds or as a date.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
