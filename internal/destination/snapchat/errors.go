package snapchat

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// DefaultThrottleBackoff is waited after a 429 without a Retry-After header.
const DefaultThrottleBackoff = 30 * time.Second

// answer is Snap's response envelope: {"status": "SUCCESS"|"INVALID"|…,
// "reason": "…"}; some answers carry "message" or "request_id" instead.
type answer struct {
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// classify turns Snap's answer into nil (the batch was accepted, with its
// request id) or an error for the whole batch: Snap accepts or refuses a
// request as a whole. The table in errors_test.go is the contract.
func classify(status int, header http.Header, body []byte) (ref string, err error) {
	var a answer
	parsed := json.Unmarshal(body, &a) == nil
	detail := "HTTP " + strconv.Itoa(status)
	if a.Status != "" {
		detail += " " + a.Status
	}
	if msg := a.Reason + a.Message; msg != "" {
		detail += ": " + destination.PlatformMessage(msg)
	}
	after := destination.ParseRetryAfter(header)
	switch {
	case status >= 200 && status < 300:
		switch {
		case !parsed:
			return "", &destination.RetryableError{Reason: "bad_response", Detail: "2xx with an unreadable body; resending is safe (event_id dedupe)"}
		case a.Status == "INVALID" || a.Status == "FAILED":
			return a.RequestID, &destination.PermanentError{Reason: "invalid_parameter", Detail: detail, PlatformRef: a.RequestID}
		}
		return a.RequestID, nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return a.RequestID, &destination.PermanentError{Reason: "auth_error", Detail: "token or permission problem: " + detail, Credential: true, PlatformRef: a.RequestID}
	case status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return a.RequestID, &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case status >= 500 || status == http.StatusRequestTimeout:
		return a.RequestID, &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return a.RequestID, &destination.PermanentError{Reason: "invalid_parameter", Detail: detail, PlatformRef: a.RequestID}
	}
	return a.RequestID, &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: detail, PlatformRef: a.RequestID}
}

// results is the answer to a batch of n events: all delivered with the
// request id, or classify's error for the whole batch.
func results(status int, header http.Header, body []byte, n int) ([]destination.Result, error) {
	ref, err := classify(status, header, body)
	if err != nil {
		return nil, err
	}
	res := make([]destination.Result, n)
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered, PlatformRef: ref}
	}
	return res, nil
}
