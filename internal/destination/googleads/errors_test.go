package googleads

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
)

// partial builds a 200 answer with a partial failure on row (category.name).
func partial(n, row int, category, name string) []byte {
	results := `[`
	for i := range n {
		if i > 0 {
			results += ","
		}
		if i == row {
			results += `{}`
		} else {
			results += `{"gclid":"g"}`
		}
	}
	return []byte(`{"results":` + results + `],"partialFailureError":{"code":3,"message":"1 of ` + strconv.Itoa(n) +
		` failed","details":[{"@type":"type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure","errors":[` +
		`{"errorCode":{"` + category + `":"` + name + `"},"message":"m","location":{"fieldPathElements":[{"fieldName":"conversions","index":` +
		strconv.Itoa(row) + `},{"fieldName":"gclid"}]}}]}]}}`)
}

// TestResults is the per-row table: each error name as the API version
// names it, on row 1 of 3; rows 0 and 2 are delivered.
func TestResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		version  int
		category string
		code     string
		want     destination.Status
		reason   string
		after    time.Duration
	}{
		{"already exists is delivered", 21, "conversionUploadError", "CLICK_CONVERSION_ALREADY_EXISTS", destination.Delivered, "duplicate", 0},
		{"order id in use is delivered", 21, "conversionUploadError", "ORDER_ID_ALREADY_IN_USE", destination.Delivered, "duplicate", 0},
		{"duplicate in request is delivered", 21, "conversionUploadError", "DUPLICATE_ORDER_ID", destination.Delivered, "duplicate", 0},
		{"retraction already applied is delivered", 21, "conversionAdjustmentUploadError", "CONVERSION_ALREADY_RETRACTED", destination.Delivered, "duplicate", 0},
		{"v21 too recent event waits 6h", 21, "conversionUploadError", "TOO_RECENT_EVENT", destination.Retry, "too_recent_event", 6 * time.Hour},
		{"v20 too recent click waits 6h", 20, "conversionUploadError", "TOO_RECENT_CLICK", destination.Retry, "too_recent_click", 6 * time.Hour},
		{"v20 name under v21 is unknown, rejected", 21, "conversionUploadError", "TOO_RECENT_CLICK", destination.Rejected, "too_recent_click", 0},
		{"too recent conversion action waits 6h", 21, "conversionUploadError", "TOO_RECENT_CONVERSION_ACTION", destination.Retry, "too_recent_conversion_action", 6 * time.Hour},
		{"transient internal error", 21, "internalError", "TRANSIENT_ERROR", destination.Retry, "transient_error", 0},
		{"quota on a row", 21, "quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED", destination.Retry, "resource_temporarily_exhausted", 0},
		{"expired event", 21, "conversionUploadError", "EXPIRED_EVENT", destination.Rejected, "expired_event", 0},
		{"unparseable gclid", 21, "conversionUploadError", "UNPARSEABLE_GCLID", destination.Rejected, "unparseable_gclid", 0},
		{"invalid user identifier", 21, "conversionUploadError", "INVALID_USER_IDENTIFIER", destination.Rejected, "invalid_user_identifier", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := results(tt.version, 3, partial(3, 1, tt.category, tt.code))
			if err != nil || len(res) != 3 {
				t.Fatalf("results = %+v, %v", res, err)
			}
			if res[0].Status != destination.Delivered || res[2].Status != destination.Delivered {
				t.Errorf("rows 0 and 2: %+v", res)
			}
			r := res[1]
			if r.Status != tt.want || r.Reason != tt.reason || r.RetryAfter != tt.after {
				t.Errorf("row 1 = %+v, want %v %s after %s", r, tt.want, tt.reason, tt.after)
			}
		})
	}
	t.Run("no partial failure: all delivered", func(t *testing.T) {
		t.Parallel()
		res, err := results(21, 2, []byte(`{"results":[{"gclid":"a"},{"gclid":"b"}]}`))
		if err != nil || len(res) != 2 || res[1].Status != destination.Delivered {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("unreadable 2xx is retried", func(t *testing.T) {
		t.Parallel()
		if _, err := results(21, 1, []byte(`<html>`)); err == nil {
			t.Fatal("want an error")
		} else if re, ok := destination.AsRetryable(err); !ok || re.Reason != "bad_response" {
			t.Fatalf("err = %v", err)
		}
	})
}

func failure(status int, canon, category, name string) []byte {
	return []byte(`{"error":{"code":` + strconv.Itoa(status) + `,"message":"m","status":"` + canon + `","details":[` +
		`{"@type":"type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure","errors":[{"errorCode":{"` + category + `":"` + name + `"},"message":"why"}]}]}}`)
}

// TestClassify is the request-level table.
func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       []byte
		kind       string
		reason     string
		credential bool
		after      time.Duration
	}{
		{"oauth token invalid", 401, nil, failure(401, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_INVALID"), "permanent", "auth_error", true, 0},
		{"user permission denied", 403, nil, failure(403, "PERMISSION_DENIED", "authorizationError", "USER_PERMISSION_DENIED"), "permanent", "permission_error", true, 0},
		{"not allow-listed", 403, nil, failure(403, "PERMISSION_DENIED", "authorizationError", "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"), "permanent", "permission_error", true, 0},
		{"quota with Retry-After", 429, http.Header{"Retry-After": {"30"}}, failure(429, "RESOURCE_EXHAUSTED", "quotaError", "RESOURCE_EXHAUSTED"), "retry", "throttled", false, 30 * time.Second},
		{"quota without header", 429, nil, failure(429, "RESOURCE_EXHAUSTED", "quotaError", "RESOURCE_EXHAUSTED"), "retry", "throttled", false, googleapi.DefaultThrottleBackoff},
		{"internal", 500, nil, failure(500, "INTERNAL", "internalError", "INTERNAL_ERROR"), "retry", "platform_unavailable", false, 0},
		{"too many conversions", 400, nil, failure(400, "INVALID_ARGUMENT", "conversionUploadError", "TOO_MANY_CONVERSIONS_IN_REQUEST"), "permanent", "invalid_argument", false, 0},
		{"plain 503", 503, nil, []byte(`Service Unavailable`), "retry", "platform_unavailable", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			err := classify(tt.status, h, tt.body)
			switch tt.kind {
			case "retry":
				re, ok := destination.AsRetryable(err)
				if !ok || re.Reason != tt.reason || (tt.after != 0 && re.After != tt.after) {
					t.Fatalf("err = %#v, want retryable %s after %s", err, tt.reason, tt.after)
				}
			case "permanent":
				pe, ok := destination.AsPermanent(err)
				if !ok || pe.Reason != tt.reason || pe.Credential != tt.credential {
					t.Fatalf("err = %#v, want permanent %s (credential %v)", err, tt.reason, tt.credential)
				}
			}
		})
	}
}
