package tiktok

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TikTok's answer codes (see the package doc for their sources).
const (
	codeOK             = 0
	codePartialSuccess = 20001
	codeNoPermission   = 40001
	codeAuthOrScope    = 40002
	codeThrottled      = 40100
	codeTokenEmpty     = 40104
	codeTokenInvalid   = 40105
	codeServerSide     = 40700
)

// DefaultThrottleBackoff is waited after a throttling answer without a
// Retry-After header.
const DefaultThrottleBackoff = 30 * time.Second

// answer is the Business API envelope.
type answer struct {
	Code      *int            `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	Data      json.RawMessage `json:"data"`
}

// failedEvents is the detail of a partial success: which events of the
// request failed (index into data[]) and why.
type failedEvents struct {
	FailedEvents []struct {
		Index   json.RawMessage `json:"index"` // one index or a list of them
		Code    int             `json:"code"`
		Message string          `json:"message"`
	} `json:"failed_events"`
}

// classify turns TikTok's answer to a batch of n events into one result per
// event, or an error for the whole batch (*destination.RetryableError or
// *destination.PermanentError). TikTok often answers HTTP 200 with a failure
// code in the body, so the code decides; the HTTP status decides only when
// the body has none. The table in errors_test.go is the contract.
func classify(status int, header http.Header, body []byte, n int) ([]destination.Result, error) {
	after := destination.ParseRetryAfter(header)
	var a answer
	if json.Unmarshal(body, &a) != nil || a.Code == nil {
		return nil, classifyHTTP(status, after)
	}
	code, ref := *a.Code, a.RequestID
	detail := "code " + strconv.Itoa(code) + ": " + destination.PlatformMessage(a.Message)
	switch {
	case code == codeOK:
		return all(n, destination.Result{Status: destination.Delivered, PlatformRef: ref}), nil
	case code == codePartialSuccess:
		return partial(a, n), nil
	case code == codeThrottled || status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return nil, &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case code == codeNoPermission || code == codeAuthOrScope || code == codeTokenEmpty || code == codeTokenInvalid ||
		status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, &destination.PermanentError{Reason: "auth_error", Detail: "access token or permission problem (" + detail + ")", Credential: true, PlatformRef: ref}
	case code == codeServerSide || code >= 50000 || status >= 500:
		return nil, &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	default:
		return nil, &destination.PermanentError{Reason: "invalid_parameter", Detail: detail, PlatformRef: ref}
	}
}

// classifyHTTP judges an answer without a TikTok code by its status.
func classifyHTTP(status int, after time.Duration) error {
	text := "HTTP " + strconv.Itoa(status) + " without a TikTok answer code"
	switch {
	case status >= 200 && status < 300:
		return &destination.RetryableError{Reason: "bad_response", Detail: text + "; resending is safe (event_id dedupe)"}
	case status == http.StatusTooManyRequests:
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return &destination.RetryableError{Reason: "throttled", Detail: text, After: after}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &destination.PermanentError{Reason: "auth_error", Detail: text, Credential: true}
	case status >= 500 || status == http.StatusRequestTimeout:
		return &destination.RetryableError{Reason: "platform_unavailable", Detail: text, After: after}
	}
	return &destination.PermanentError{Reason: "http_" + strconv.Itoa(status), Detail: text}
}

// partial maps a 20001 answer to per-event results: the events it names are
// rejected with TikTok's message, the others delivered. When it names none,
// every event is rejected (see the package doc).
func partial(a answer, n int) []destination.Result {
	var fe failedEvents
	_ = json.Unmarshal(a.Data, &fe)
	failed := map[int]string{}
	for _, f := range fe.FailedEvents {
		msg := "code " + strconv.Itoa(f.Code) + ": " + destination.PlatformMessage(f.Message)
		var one int
		var many []int
		if json.Unmarshal(f.Index, &one) == nil {
			many = []int{one}
		} else {
			_ = json.Unmarshal(f.Index, &many)
		}
		for _, i := range many {
			if i >= 0 && i < n {
				failed[i] = msg
			}
		}
	}
	if len(failed) == 0 {
		return all(n, destination.Result{Status: destination.Rejected, Reason: "partial_failure",
			Detail: "TikTok reported a partial success (code 20001) without naming the failed events: " + destination.PlatformMessage(a.Message), PlatformRef: a.RequestID})
	}
	res := all(n, destination.Result{Status: destination.Delivered, PlatformRef: a.RequestID})
	for i, msg := range failed {
		res[i] = destination.Result{Status: destination.Rejected, Reason: "invalid_event", Detail: msg, PlatformRef: a.RequestID}
	}
	return res
}

func all(n int, r destination.Result) []destination.Result {
	res := make([]destination.Result, n)
	for i := range res {
		res[i] = r
	}
	return res
}
