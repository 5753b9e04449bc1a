package pinterest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// DefaultThrottleBackoff is waited after a 429 without a Retry-After header.
// Pinterest allows 5,000 calls per minute per ad account, so a throttled
// account recovers within the minute.
const DefaultThrottleBackoff = 60 * time.Second

// eventsAnswer is the per-event report: the body of a 200, or the details
// of a 422 (code 953).
type eventsAnswer struct {
	NumEventsReceived  int           `json:"num_events_received"`
	NumEventsProcessed int           `json:"num_events_processed"`
	Events             []eventStatus `json:"events"`
}

type eventStatus struct {
	Status         string `json:"status"`
	ErrorMessage   string `json:"error_message"`
	WarningMessage string `json:"warning_message"`
}

// apiError is Pinterest's error envelope.
type apiError struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Details *eventsAnswer `json:"details"`
}

// classify turns Pinterest's answer to a batch of n events into one result
// per event, or an error for the whole batch. The table in errors_test.go
// is the contract.
func classify(status int, header http.Header, body []byte, n int) ([]destination.Result, error) {
	after := destination.ParseRetryAfter(header)
	var ae apiError
	_ = json.Unmarshal(body, &ae) // an error page leaves ae empty
	detail := "HTTP " + strconv.Itoa(status)
	if ae.Message != "" {
		detail += " (code " + strconv.Itoa(ae.Code) + "): " + destination.PlatformMessage(ae.Message)
	}
	switch {
	case status >= 200 && status < 300:
		var ok eventsAnswer
		if json.Unmarshal(body, &ok) != nil {
			return nil, &destination.RetryableError{Reason: "bad_response", Detail: "2xx with an unreadable body"}
		}
		return perEvent(ok, n), nil
	case status == http.StatusUnprocessableEntity && ae.Details != nil:
		return perEvent(*ae.Details, n), nil
	case status == http.StatusUnauthorized:
		return nil, &destination.PermanentError{Reason: "auth_error", Detail: "token rejected: " + detail, Credential: true}
	case status == http.StatusForbidden:
		return nil, &destination.PermanentError{Reason: "permission_error", Detail: "the token's user has no access to the ad account: " + detail, Credential: true}
	case status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return nil, &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case status >= 500 || status == http.StatusRequestTimeout:
		return nil, &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return nil, &destination.PermanentError{Reason: "invalid_parameter", Detail: detail}
	}
	return nil, &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: detail}
}

// perEvent maps events[] (in request order) to results; see the package doc
// for answers that do not match the batch.
func perEvent(a eventsAnswer, n int) []destination.Result {
	res := make([]destination.Result, n)
	if len(a.Events) != n {
		r := destination.Result{Status: destination.Delivered}
		if a.NumEventsProcessed != n {
			r = destination.Result{Status: destination.Rejected, Reason: "unattributed_failure",
				Detail: strconv.Itoa(a.NumEventsProcessed) + " of " + strconv.Itoa(n) + " events processed; Pinterest did not say which"}
		}
		for i := range res {
			res[i] = r
		}
		return res
	}
	for i, e := range a.Events {
		if e.Status == "failed" {
			res[i] = destination.Result{Status: destination.Rejected, Reason: "invalid_event", Detail: destination.PlatformMessage(e.ErrorMessage)}
		} else {
			res[i] = destination.Result{Status: destination.Delivered, Detail: destination.PlatformMessage(e.WarningMessage)}
		}
	}
	return res
}
