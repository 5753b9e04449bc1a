package googleads

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
)

// adsError is one GoogleAdsError: errorCode is a oneof whose single key is
// the error's category (conversionUploadError, quotaError, …) and whose
// value is the enum name.
type adsError struct {
	ErrorCode map[string]string `json:"errorCode"`
	Message   string            `json:"message"`
	Location  struct {
		FieldPathElements []struct {
			FieldName string `json:"fieldName"`
			Index     *int   `json:"index"`
		} `json:"fieldPathElements"`
	} `json:"location"`
}

// code returns the error's category and name.
func (e adsError) code() (category, name string) {
	for k, v := range e.ErrorCode {
		return k, v
	}
	return "", ""
}

// row returns the index of the request row the error is about, or -1.
func (e adsError) row() int {
	for _, p := range e.Location.FieldPathElements {
		if (p.FieldName == "conversions" || p.FieldName == "conversion_adjustments" || p.FieldName == "conversionAdjustments") && p.Index != nil {
			return *p.Index
		}
	}
	return -1
}

// uploadResponse is a 2xx answer of either upload method.
type uploadResponse struct {
	Results             []json.RawMessage `json:"results"`
	PartialFailureError *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type   string     `json:"@type"`
			Errors []adsError `json:"errors"`
		} `json:"details"`
	} `json:"partialFailureError"`
}

// rowOutcome is a row error's class.
type rowOutcome int

const (
	rowDuplicate rowOutcome = iota + 1 // the platform has it: delivered
	rowTooRecent                       // retry after TooRecentDelay
	rowTransient                       // retry with back-off
	rowRejected                        // permanent
)

// classifyRow classifies one error name as the API version names it. v21
// renamed the click errors; a name from the other era is unknown there and
// falls to rejected, which is what Google would mean by an unknown code.
func classifyRow(version int, category, name string) rowOutcome {
	tooRecentClick, _, _ := clickNames(version)
	switch name {
	case "CLICK_CONVERSION_ALREADY_EXISTS", "ORDER_ID_ALREADY_IN_USE",
		"DUPLICATE_CLICK_CONVERSION_IN_REQUEST", "DUPLICATE_ORDER_ID",
		"CONVERSION_ALREADY_RETRACTED", "RESTATEMENT_ALREADY_EXISTS", "MORE_RECENT_RESTATEMENT_FOUND",
		"CONVERSION_ALREADY_ENHANCED", "DUPLICATE_ADJUSTMENT_IN_REQUEST", "DUPLICATE_ENHANCEMENT_IN_REQUEST":
		return rowDuplicate
	case tooRecentClick, "TOO_RECENT_CONVERSION_ACTION", "TOO_RECENT_CALL", "TOO_RECENT_CONVERSION":
		return rowTooRecent
	case "RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED", "INTERNAL_ERROR", "TRANSIENT_ERROR", "DEADLINE_EXCEEDED":
		return rowTransient
	}
	if category == "quotaError" || category == "internalError" {
		return rowTransient
	}
	return rowRejected
}

// clickNames are the version's names for a too recent, an expired and an
// unknown click (renamed in v21).
func clickNames(version int) (tooRecent, expired, notFound string) {
	if version < 21 {
		return "TOO_RECENT_CLICK", "EXPIRED_CLICK", "CLICK_NOT_FOUND"
	}
	return "TOO_RECENT_EVENT", "EXPIRED_EVENT", "EVENT_NOT_FOUND"
}

// results turns an upload's 2xx answer into one result per row of n.
// Rows without an error are delivered; a row with several errors takes the
// most final class: rejected over retry over duplicate.
func results(version, n int, body []byte) ([]destination.Result, error) {
	var r uploadResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &destination.RetryableError{Reason: "bad_response", Detail: "2xx with an unreadable body"}
	}
	res := make([]destination.Result, n)
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered}
	}
	pfe := r.PartialFailureError
	if pfe == nil {
		return res, nil
	}
	worst := make([]rowOutcome, n)
	for _, d := range pfe.Details {
		for _, e := range d.Errors {
			i := e.row()
			cat, name := e.code()
			if i < 0 || i >= n {
				// Not about one row: the request as a whole failed.
				return nil, &destination.PermanentError{Reason: strings.ToLower(name), Detail: cat + "." + name + ": " + destination.PlatformMessage(e.Message)}
			}
			out := classifyRow(version, cat, name)
			if out <= worst[i] {
				continue
			}
			worst[i] = out
			reason := strings.ToLower(name)
			switch out {
			case rowDuplicate:
				res[i] = destination.Result{Status: destination.Delivered, Reason: "duplicate", Detail: name}
			case rowTooRecent:
				res[i] = destination.Result{Status: destination.Retry, Reason: reason, Detail: destination.PlatformMessage(e.Message), RetryAfter: TooRecentDelay}
			case rowTransient:
				res[i] = destination.Result{Status: destination.Retry, Reason: reason, Detail: destination.PlatformMessage(e.Message)}
			case rowRejected:
				res[i] = destination.Result{Status: destination.Rejected, Reason: reason, Detail: cat + "." + name + ": " + destination.PlatformMessage(e.Message)}
			}
		}
	}
	return res, nil
}

// classify turns a non-2xx answer into an error. Google Ads puts a
// GoogleAdsFailure in the status details; its category decides first:
//
//	authenticationError                 permanent "auth_error", credential
//	authorizationError                  permanent "permission_error", credential
//	quotaError                          retry "throttled" (Retry-After, else 60 s)
//	internalError                       retry "platform_unavailable"
//	anything else                       by canonical status (googleapi.ClassifyStatus)
func classify(status int, header http.Header, body []byte) error {
	st := googleapi.ParseStatus(status, body)
	for _, d := range st.Details {
		for _, raw := range d.Errors {
			var e adsError
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			cat, name := e.code()
			detail := "HTTP " + strconv.Itoa(status) + " " + cat + "." + name + ": " + destination.PlatformMessage(e.Message)
			switch cat {
			case "authenticationError":
				return &destination.PermanentError{Reason: "auth_error", Detail: detail, Credential: true, PlatformRef: st.RequestID()}
			case "authorizationError":
				return &destination.PermanentError{Reason: "permission_error", Detail: detail, Credential: true, PlatformRef: st.RequestID()}
			case "quotaError":
				after := destination.ParseRetryAfter(header)
				if after == 0 {
					after = googleapi.DefaultThrottleBackoff
				}
				return &destination.RetryableError{Reason: "throttled", Detail: detail, After: after}
			case "internalError":
				return &destination.RetryableError{Reason: "platform_unavailable", Detail: detail, After: destination.ParseRetryAfter(header)}
			}
		}
	}
	return googleapi.ClassifyStatus(status, header, st)
}
