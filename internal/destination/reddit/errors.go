package reddit

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// apiError is the Ads API v3 error body; details name the events that
// failed validation by their index in the request.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Index   *int   `json:"index"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// DefaultThrottleBackoff is waited after a 429 without Retry-After; Reddit
// publishes no rate limits.
const DefaultThrottleBackoff = 30 * time.Second

// refHeader carries the request's id, quoted to Reddit support.
const refHeader = "X-Request-Id"

// classify turns Reddit's answer to a batch of n events into one result per
// event, or an error for the whole batch. The table in errors_test.go is the
// contract:
//
//	2xx                      every event delivered
//	400/422 naming events    named events rejected (invalid_event, with the field);
//	                         the others retried at once (the request was refused)
//	400/422 naming none      permanent invalid_request (deliver splits the batch)
//	401                      permanent auth_error, credential
//	403                      permanent permission_error, credential
//	404                      permanent unknown_pixel, credential (pixel_id)
//	429                      retry throttled, after Retry-After or 30 s
//	5xx, 408                 retry platform_unavailable / timeout
//	other                    permanent http_<code>
func classify(status int, header http.Header, body []byte, n int) ([]destination.Result, error) {
	ref := header.Get(refHeader)
	if status >= 200 && status < 300 {
		res := make([]destination.Result, n)
		for i := range res {
			res[i] = destination.Result{Status: destination.Delivered, PlatformRef: ref}
		}
		return res, nil
	}
	after := destination.ParseRetryAfter(header)
	var e apiError
	_ = json.Unmarshal(body, &e) // a non-JSON error page leaves e empty
	detail := "HTTP " + strconv.Itoa(status)
	if e.Error.Code != "" {
		detail += " " + e.Error.Code
	}
	if msg := destination.PlatformMessage(e.Error.Message); msg != "" {
		detail += ": " + msg
	} else {
		detail += ": " + http.StatusText(status)
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		if res, ok := perEvent(&e, n, ref); ok {
			return res, nil
		}
		return nil, &destination.PermanentError{Reason: "invalid_request", Detail: detail, PlatformRef: ref}
	case status == http.StatusUnauthorized:
		return nil, &destination.PermanentError{Reason: "auth_error", Detail: detail + " (check the conversion access token in access_token_env)", Credential: true, PlatformRef: ref}
	case status == http.StatusForbidden:
		return nil, &destination.PermanentError{Reason: "permission_error", Detail: detail + " (the token is not valid for this pixel)", Credential: true, PlatformRef: ref}
	case status == http.StatusNotFound:
		return nil, &destination.PermanentError{Reason: "unknown_pixel", Detail: detail + " (check pixel_id)", Credential: true, PlatformRef: ref}
	case status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return nil, &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case status == http.StatusRequestTimeout:
		return nil, &destination.RetryableError{Reason: "timeout", Detail: detail, After: after}
	case status >= 500:
		return nil, &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	}
	return nil, &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: detail, PlatformRef: ref}
}

// perEvent reads a refusal that names its invalid events: those are
// rejected, the rest retried. ok is false when no detail names an event of
// the batch.
func perEvent(e *apiError, n int, ref string) ([]destination.Result, bool) {
	res := make([]destination.Result, n)
	named := false
	for _, d := range e.Error.Details {
		if d.Index == nil || *d.Index < 0 || *d.Index >= n {
			continue
		}
		named = true
		msg := destination.PlatformMessage(d.Message)
		if d.Field != "" {
			msg = d.Field + ": " + msg
		}
		res[*d.Index] = destination.Result{Status: destination.Rejected, Reason: "invalid_event", Detail: msg, PlatformRef: ref}
	}
	if !named {
		return nil, false
	}
	for i := range res {
		if res[i].Status == 0 {
			res[i] = destination.Result{Status: destination.Retry, Reason: "batch_refused", Detail: "Reddit refused the request for other events in it", PlatformRef: ref}
		}
	}
	return res, true
}
