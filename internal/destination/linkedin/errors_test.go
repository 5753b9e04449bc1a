package linkedin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestClassify is the contract for LinkedIn's answers: request-level
// statuses and, inside a 2xx batch answer, one result per element.
func TestClassify(t *testing.T) {
	t.Parallel()
	type want struct {
		kind       string // results, retry, permanent
		statuses   []destination.Status
		reasons    []string
		reason     string
		credential bool
		after      time.Duration
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		n      int
		want   want
	}{
		{"all created", 200, nil, `{"elements":[{"status":201},{"status":201}]}`, 2,
			want{kind: "results", statuses: []destination.Status{destination.Delivered, destination.Delivered}, reasons: []string{"", ""}}},
		{"partial failure per element", 200, nil,
			`{"elements":[{"status":201},{"status":400,"error":{"status":400,"code":"INVALID_FIELD_VALUE","message":"ERROR :: /elements/1/user :: bad"}},{"status":409},{"status":429},{"status":503}]}`, 5,
			want{kind: "results",
				statuses: []destination.Status{destination.Delivered, destination.Rejected, destination.Delivered, destination.Retry, destination.Retry},
				reasons:  []string{"", "invalid_field_value", "duplicate", "throttled", "platform_unavailable"}}},
		{"element 400 without error body", 200, nil, `{"elements":[{"status":400}]}`, 1,
			want{kind: "results", statuses: []destination.Status{destination.Rejected}, reasons: []string{"invalid_parameter"}}},
		{"wrong element count", 200, nil, `{"elements":[{"status":201}]}`, 2, want{kind: "retry", reason: "bad_response"}},
		{"2xx garbage", 200, nil, `<html>`, 1, want{kind: "retry", reason: "bad_response"}},
		{"401 token", 401, nil, `{"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token"}`, 1,
			want{kind: "permanent", reason: "auth_error", credential: true}},
		{"403 scope", 403, nil, `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions"}`, 1,
			want{kind: "permanent", reason: "permission_error", credential: true}},
		{"426 version sunset", 426, nil, `{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 202301 is not active"}`, 1,
			want{kind: "permanent", reason: "unsupported_version", credential: true}},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"9"}}, `{"status":429,"code":"TOO_MANY_REQUESTS","message":"m"}`, 1,
			want{kind: "retry", reason: "throttled", after: 9 * time.Second}},
		{"429 without header waits a minute", 429, nil, ``, 1, want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"500", 500, nil, `oops`, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"504 with Retry-After", 504, http.Header{"Retry-After": {"2"}}, ``, 1, want{kind: "retry", reason: "platform_unavailable", after: 2 * time.Second}},
		{"408", 408, nil, ``, 1, want{kind: "retry", reason: "timeout"}},
		{"400 whole request", 400, nil, `{"status":400,"code":"BATCH_SIZE_EXCEEDED","message":"m"}`, 1, want{kind: "permanent", reason: "invalid_request"}},
		{"404", 404, nil, `not found`, 1, want{kind: "permanent", reason: "http_404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			res, err := classify(tt.status, h, []byte(tt.body), tt.n)
			switch tt.want.kind {
			case "results":
				if err != nil || len(res) != tt.n {
					t.Fatalf("classify = %v, %v; want %d results", res, err, tt.n)
				}
				for i, r := range res {
					if r.Status != tt.want.statuses[i] || r.Reason != tt.want.reasons[i] {
						t.Errorf("result %d = %+v, want status %d reason %q", i, r, tt.want.statuses[i], tt.want.reasons[i])
					}
					if r.Status == destination.Retry && r.Reason == "throttled" && r.RetryAfter < DefaultThrottleBackoff {
						t.Errorf("result %d: throttled element retries after %s", i, r.RetryAfter)
					}
				}
			case "retry":
				re, ok := destination.AsRetryable(err)
				if !ok || re.Reason != tt.want.reason || (tt.want.after != 0 && re.After != tt.want.after) {
					t.Fatalf("err = %#v, want retryable %s after %s", err, tt.want.reason, tt.want.after)
				}
			case "permanent":
				pe, ok := destination.AsPermanent(err)
				if !ok || pe.Reason != tt.want.reason || pe.Credential != tt.want.credential {
					t.Fatalf("err = %#v, want permanent %s (credential %v)", err, tt.want.reason, tt.want.credential)
				}
			}
		})
	}
}

// TestDescribeHidesQuotedValues: LinkedIn's messages quote the offending
// value, which may be a person's name; the detail never carries it.
func TestDescribeHidesQuotedValues(t *testing.T) {
	t.Parallel()
	got := describe(400, &apiError{Code: "INVALID_FIELD_VALUE", Message: `ERROR :: /user/userInfo/firstName :: value "Johnathan" is invalid; 'Smith' too`})
	if strings.Contains(got, "Johnathan") || strings.Contains(got, "Smith") || !strings.Contains(got, "/user/userInfo/firstName") {
		t.Errorf("describe = %q", got)
	}
	long := describe(400, &apiError{Message: strings.Repeat("é", 300)})
	if len(long) > 250 {
		t.Errorf("describe did not bound a long message: %d bytes", len(long))
	}
}
