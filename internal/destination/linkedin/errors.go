package linkedin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// apiError is LinkedIn's error body, both for a whole request and inside a
// batch element.
type apiError struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode"`
	Code             string `json:"code"`
	Message          string `json:"message"`
}

// batchResponse is a BATCH_CREATE answer: one status per element, in
// request order.
type batchResponse struct {
	Elements []struct {
		Status int       `json:"status"`
		Error  *apiError `json:"error"`
	} `json:"elements"`
}

// Named back-off defaults.
const (
	// DefaultThrottleBackoff is waited after a 429 without Retry-After:
	// LinkedIn's limits are per minute.
	DefaultThrottleBackoff = time.Minute
)

// refHeader carries LinkedIn's request id, quoted to LinkedIn support.
const refHeader = "X-Li-Uuid"

// classify turns LinkedIn's answer to a batch of n events into one result
// per event, or an error for the whole request (a *destination.PermanentError
// or *destination.RetryableError). The table in errors_test.go is the
// contract:
//
//	request 2xx          per element: 2xx delivered; 409 (eventId already
//	                     received) delivered; 429 retry; 5xx, 408 retry;
//	                     other 4xx rejected (reason from LinkedIn's code)
//	request 401          permanent auth_error, credential (token expired or revoked)
//	request 403          permanent permission_error, credential (scope rw_conversions or ad account role)
//	request 426          permanent unsupported_version, credential (api_version sunset)
//	request 429          retry throttled, after Retry-After or a minute
//	request 5xx, 408     retry platform_unavailable / timeout
//	request other 4xx    permanent invalid_request / http_<code>
//	2xx not one element  retry bad_response (resending is deduplicated by eventId)
func classify(status int, header http.Header, body []byte, n int) ([]destination.Result, error) {
	ref := header.Get(refHeader)
	after := destination.ParseRetryAfter(header)
	if status >= 200 && status < 300 {
		var br batchResponse
		if err := json.Unmarshal(body, &br); err != nil || len(br.Elements) != n {
			return nil, &destination.RetryableError{Reason: "bad_response", Detail: "HTTP " + strconv.Itoa(status) + " without one status per event; resending is safe (eventId dedupe)"}
		}
		res := make([]destination.Result, n)
		for i, el := range br.Elements {
			res[i] = elementResult(el.Status, el.Error, after, ref)
		}
		return res, nil
	}
	var e apiError
	_ = json.Unmarshal(body, &e) // a non-JSON error page leaves e empty
	detail := describe(status, &e)
	switch {
	case status == http.StatusUnauthorized:
		return nil, &destination.PermanentError{Reason: "auth_error", Detail: detail + " (refresh the token in access_token_env)", Credential: true, PlatformRef: ref}
	case status == http.StatusForbidden:
		return nil, &destination.PermanentError{Reason: "permission_error", Detail: detail + " (the token needs rw_conversions and an ad account role)", Credential: true, PlatformRef: ref}
	case status == http.StatusUpgradeRequired:
		return nil, &destination.PermanentError{Reason: "unsupported_version", Detail: detail + " (raise api_version)", Credential: true, PlatformRef: ref}
	case status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return nil, &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case status == http.StatusRequestTimeout:
		return nil, &destination.RetryableError{Reason: "timeout", Detail: detail, After: after}
	case status >= 500:
		return nil, &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return nil, &destination.PermanentError{Reason: "invalid_request", Detail: detail, PlatformRef: ref}
	default:
		return nil, &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: detail, PlatformRef: ref}
	}
}

// elementResult is one element's outcome inside a successful batch answer.
func elementResult(status int, e *apiError, after time.Duration, ref string) destination.Result {
	if e == nil {
		e = &apiError{}
	}
	switch {
	case status >= 200 && status < 300:
		return destination.Result{Status: destination.Delivered, PlatformRef: ref}
	case status == http.StatusConflict:
		return destination.Result{Status: destination.Delivered, Reason: "duplicate", Detail: "LinkedIn already has this eventId", PlatformRef: ref}
	case status == http.StatusTooManyRequests:
		return destination.Result{Status: destination.Retry, Reason: "throttled", Detail: describe(status, e), RetryAfter: max(after, DefaultThrottleBackoff), PlatformRef: ref}
	case status >= 500 || status == http.StatusRequestTimeout:
		return destination.Result{Status: destination.Retry, Reason: "platform_unavailable", Detail: describe(status, e), RetryAfter: after, PlatformRef: ref}
	}
	reason := "invalid_parameter"
	if e.Code != "" {
		reason = strings.ToLower(e.Code)
	}
	return destination.Result{Status: destination.Rejected, Reason: reason, Detail: describe(status, e), PlatformRef: ref}
}

// describe renders "HTTP <status> <CODE>: <message>", the message made
// safe by destination.PlatformMessage (Rest.li messages quote values).
func describe(status int, e *apiError) string {
	s := "HTTP " + strconv.Itoa(status)
	if e.Code != "" {
		s += " " + e.Code
	}
	msg := destination.PlatformMessage(e.Message)
	if msg == "" {
		msg = http.StatusText(status)
	}
	return s + ": " + msg
}
