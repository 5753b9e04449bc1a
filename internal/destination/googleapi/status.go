package googleapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Status is the google.rpc.Status error envelope of Google's REST APIs:
// {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT",
// "details": [...]}}.
type Status struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Status  string         `json:"status"`
	Details []StatusDetail `json:"details"`
}

// StatusDetail is one entry of Status.Details; only the kinds signalpipe
// reads are decoded (ErrorInfo, BadRequest, RequestInfo).
type StatusDetail struct {
	Type            string           `json:"@type"`
	Reason          string           `json:"reason"`
	Domain          string           `json:"domain"`
	RequestID       string           `json:"requestId"`
	FieldViolations []FieldViolation `json:"fieldViolations"`
	// Errors is the Google Ads API's GoogleAdsFailure errors list.
	Errors []json.RawMessage `json:"errors"`
}

// FieldViolation is a BadRequest detail: which field and why.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
	Reason      string `json:"reason"`
}

// ParseStatus decodes an error body; a body that is not the envelope gives
// a Status with only the HTTP code.
func ParseStatus(httpStatus int, body []byte) Status {
	var env struct {
		Error Status `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	s := env.Error
	if s.Code == 0 {
		s.Code = httpStatus
	}
	return s
}

// Reason is the ErrorInfo reason when there is one.
func (s Status) Reason() string {
	for _, d := range s.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Reason != "" {
			return d.Reason
		}
	}
	return ""
}

// RequestID is the RequestInfo request id when there is one.
func (s Status) RequestID() string {
	for _, d := range s.Details {
		if d.RequestID != "" {
			return d.RequestID
		}
	}
	return ""
}

// Detail is a one-line description: status, message and field violations,
// each message made safe by destination.PlatformMessage (a platform that
// quotes a value it refused must not put it in an outcome).
func (s Status) Detail() string {
	var b strings.Builder
	b.WriteString("HTTP " + strconv.Itoa(s.Code))
	if s.Status != "" {
		b.WriteString(" " + s.Status)
	}
	if s.Message != "" {
		b.WriteString(": " + destination.PlatformMessage(s.Message))
	}
	for _, d := range s.Details {
		for _, v := range d.FieldViolations {
			b.WriteString("; " + v.Field + ": " + destination.PlatformMessage(v.Description))
		}
	}
	return b.String()
}

// DefaultThrottleBackoff is waited after RESOURCE_EXHAUSTED without a
// Retry-After header.
const DefaultThrottleBackoff = 60 * time.Second

// ClassifyStatus maps an error answer of a Google REST API by its canonical
// status (https://google.aip.dev/193): UNAUTHENTICATED and PERMISSION_DENIED
// are credential problems; RESOURCE_EXHAUSTED is throttling; UNAVAILABLE,
// INTERNAL, DEADLINE_EXCEEDED, ABORTED and any 5xx are retryable; the rest
// (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, …) are permanent.
func ClassifyStatus(httpStatus int, header http.Header, s Status) error {
	after := destination.ParseRetryAfter(header)
	detail := s.Detail()
	ref := s.RequestID()
	canon := s.Status
	if canon == "" {
		canon = canonicalFromHTTP(httpStatus)
	}
	switch {
	case canon == "UNAUTHENTICATED":
		return &destination.PermanentError{Reason: "auth_error", Detail: detail, Credential: true, PlatformRef: ref}
	case canon == "PERMISSION_DENIED":
		return &destination.PermanentError{Reason: "permission_error", Detail: detail, Credential: true, PlatformRef: ref}
	case canon == "RESOURCE_EXHAUSTED":
		if after == 0 {
			after = DefaultThrottleBackoff
		}
		return &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
	case canon == "DEADLINE_EXCEEDED" || httpStatus == http.StatusRequestTimeout:
		return &destination.RetryableError{Reason: "timeout", Detail: detail, After: after}
	case canon == "UNAVAILABLE" || canon == "INTERNAL" || canon == "ABORTED" || canon == "UNKNOWN" || httpStatus >= 500:
		return &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: after}
	case canon == "INVALID_ARGUMENT":
		return &destination.PermanentError{Reason: "invalid_argument", Detail: detail, PlatformRef: ref}
	default:
		return &destination.PermanentError{Reason: strings.ToLower(canon), Detail: detail, PlatformRef: ref}
	}
}

// canonicalFromHTTP is the canonical status Google maps an HTTP status to,
// for bodies that are not the envelope (proxies, load balancers).
func canonicalFromHTTP(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "HTTP_" + strconv.Itoa(status)
}
