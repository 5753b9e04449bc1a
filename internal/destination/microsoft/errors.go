package microsoft

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// uetResponse is the UET Conversions API's answer: a count, and with
// continueOnValidationError the events that failed validation.
type uetResponse struct {
	EventsReceived *int         `json:"eventsReceived"`
	Errors         []indexError `json:"errors"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// indexError names one failed event of a batch by its index.
type indexError struct {
	Index   *int   `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// bingResponse is a Campaign Management answer: PartialErrors on success,
// OperationErrors (the request failed) or BatchErrors on a fault.
type bingResponse struct {
	PartialErrors   []bingError `json:"PartialErrors"`
	OperationErrors []bingError `json:"OperationErrors"`
	BatchErrors     []bingError `json:"BatchErrors"`
	TrackingID      string      `json:"TrackingId"`
}

// bingError is a Bing Ads API error (OperationError or BatchError).
type bingError struct {
	Code      int    `json:"Code"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
	Index     *int   `json:"Index"`
}

// Bing Ads API operation error codes that need a person.
var (
	credentialCodes = []string{"AuthenticationTokenExpired", "InvalidCredentials", "UserIsNotAuthorized",
		"InvalidDeveloperToken", "CustomerIdHasToBeSpecified", "InvalidAccount", "CustomerNotActive"}
	throttleCodes = []string{"CallRateExceeded"}
)

// Back-off defaults.
const (
	// DefaultThrottleBackoff is waited after throttling without Retry-After.
	DefaultThrottleBackoff = 30 * time.Second
)

// Request-id headers, quoted to Microsoft support.
const (
	uetRefHeader  = "X-Ms-Request-Id"
	bingRefHeader = "TrackingId"
)

// classify turns the answer of api (uet or offline) to a batch of n events
// into one result per event, or an error for the whole batch. The table in
// errors_test.go is the contract:
//
//	2xx uet                 delivered, except events named in errors[] (rejected,
//	                        invalid_event); eventsReceived not adding up: the
//	                        unnamed events retry (bad_response)
//	2xx offline             delivered, except events named in PartialErrors
//	                        (rejected, reason the ErrorCode)
//	401; offline credential ErrorCode (AuthenticationTokenExpired, …)
//	                        permanent auth_error, credential
//	403                     permanent permission_error, credential (uet: tag not
//	                        provisioned for the pilot)
//	404                     permanent unknown_tag (uet) / http_404, credential
//	429; CallRateExceeded   retry throttled, after Retry-After or 30 s
//	5xx, 408                retry platform_unavailable / timeout
//	4xx naming events       named events rejected, the others retried at once
//	other 4xx               permanent invalid_request
func classify(api string, status int, header http.Header, body []byte, n int) ([]destination.Result, error) {
	ref := header.Get(uetRefHeader)
	var u uetResponse
	var b bingResponse
	if api == APIOffline {
		_ = json.Unmarshal(body, &b) // a non-JSON page leaves b empty
		ref = firstNonEmpty(header.Get(bingRefHeader), b.TrackingID)
	} else {
		_ = json.Unmarshal(body, &u)
	}
	if status >= 200 && status < 300 {
		if api == APIOffline {
			return perEvent(n, b.PartialErrors, ref), nil
		}
		return uetResults(n, &u, ref), nil
	}
	after := destination.ParseRetryAfter(header)
	code, detail := errorText(api, status, &u, &b)
	switch {
	case status == http.StatusUnauthorized || slices.Contains(credentialCodes, code):
		return nil, &destination.PermanentError{Reason: "auth_error", Detail: detail + " (check the tokens in access_token_env / developer_token_env)", Credential: true, PlatformRef: ref}
	case status == http.StatusForbidden:
		return nil, &destination.PermanentError{Reason: "permission_error", Detail: detail + " (UET: is the tag enabled for the Conversions API?)", Credential: true, PlatformRef: ref}
	case status == http.StatusNotFound && api == APIUET:
		return nil, &destination.PermanentError{Reason: "unknown_tag", Detail: detail + " (check tag_id)", Credential: true, PlatformRef: ref}
	case status == http.StatusTooManyRequests || slices.Contains(throttleCodes, code):
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return nil, &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case status == http.StatusRequestTimeout:
		return nil, &destination.RetryableError{Reason: "timeout", Detail: detail, After: after}
	case status >= 500:
		return nil, &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	}
	errs := u.Errors
	if api == APIOffline {
		errs = nil
		for _, e := range b.BatchErrors {
			errs = append(errs, indexError{Index: e.Index, Field: e.ErrorCode, Message: e.Message})
		}
	}
	if res := perEventIndexed(n, errs, ref); res != nil {
		// The request was refused as a whole: the events it did not name
		// go again, without the bad ones.
		for i := range res {
			if res[i].Status == 0 {
				res[i] = destination.Result{Status: destination.Retry, Reason: "batch_refused", Detail: "the request was refused for other events in it", PlatformRef: ref}
			}
		}
		return res, nil
	}
	return nil, &destination.PermanentError{Reason: "invalid_request", Detail: detail, PlatformRef: ref}
}

// uetResults reads a 2xx UET answer.
func uetResults(n int, u *uetResponse, ref string) []destination.Result {
	res := perEventIndexed(n, u.Errors, ref)
	if res == nil {
		res = make([]destination.Result, n)
	}
	rejected := 0
	for i := range res {
		if res[i].Status == destination.Rejected {
			rejected++
		}
	}
	fill := destination.Result{Status: destination.Delivered, PlatformRef: ref}
	if u.EventsReceived != nil && *u.EventsReceived+rejected != n {
		fill = destination.Result{Status: destination.Retry, Reason: "bad_response", Detail: "eventsReceived does not account for every event; resending is deduplicated by eventId", PlatformRef: ref}
	}
	for i := range res {
		if res[i].Status == 0 {
			res[i] = fill
		}
	}
	return res
}

// perEventIndexed marks the events errs name as rejected and leaves the
// others zero; nil when errs names no event of the batch.
func perEventIndexed(n int, errs []indexError, ref string) []destination.Result {
	res := make([]destination.Result, n)
	named := false
	for _, e := range errs {
		if e.Index == nil || *e.Index < 0 || *e.Index >= n {
			continue
		}
		named = true
		msg := destination.PlatformMessage(e.Message)
		if e.Field != "" {
			msg = e.Field + ": " + msg
		}
		res[*e.Index] = destination.Result{Status: destination.Rejected, Reason: "invalid_event", Detail: msg, PlatformRef: ref}
	}
	if !named {
		return nil
	}
	return res
}

// perEvent is a 2xx offline answer: events named in PartialErrors are
// rejected with their ErrorCode, the rest delivered.
func perEvent(n int, partial []bingError, ref string) []destination.Result {
	res := make([]destination.Result, n)
	for _, e := range partial {
		if e.Index == nil || *e.Index < 0 || *e.Index >= n {
			continue
		}
		res[*e.Index] = destination.Result{Status: destination.Rejected, Reason: "invalid_conversion",
			Detail: e.ErrorCode + " (" + strconv.Itoa(e.Code) + "): " + destination.PlatformMessage(e.Message), PlatformRef: ref}
	}
	for i := range res {
		if res[i].Status == 0 {
			res[i] = destination.Result{Status: destination.Delivered, PlatformRef: ref}
		}
	}
	return res
}

// errorText is the platform's error code and a safe "HTTP <status> <code>:
// <message>" detail.
func errorText(api string, status int, u *uetResponse, b *bingResponse) (code, detail string) {
	var msg string
	switch {
	case api == APIOffline && len(b.OperationErrors) > 0:
		code, msg = b.OperationErrors[0].ErrorCode, b.OperationErrors[0].Message
	case api == APIUET && u.Error != nil:
		code, msg = u.Error.Code, u.Error.Message
	}
	detail = "HTTP " + strconv.Itoa(status)
	if code != "" {
		detail += " " + code
	}
	if msg = destination.PlatformMessage(msg); msg == "" {
		msg = http.StatusText(status)
	}
	return code, detail + ": " + msg
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
