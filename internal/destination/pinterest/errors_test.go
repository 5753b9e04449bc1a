package pinterest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestClassify is Pinterest's error table; 422 (code 953) carries the
// per-event statuses like a 200.
func TestClassify(t *testing.T) {
	t.Parallel()
	const (
		D = destination.Delivered
		R = destination.Rejected
	)
	type want struct {
		kind       string // results, retry, permanent
		statuses   []destination.Status
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
		{"all processed", 200, nil, `{"num_events_received":2,"num_events_processed":2,"events":[{"status":"processed","error_message":"","warning_message":""},{"status":"processed"}]}`, 2,
			want{kind: "results", statuses: []destination.Status{D, D}}},
		{"422 names the failed one", 422, nil, `{"code":953,"message":"invalid","details":{"num_events_received":3,"num_events_processed":2,"events":[{"status":"processed"},{"status":"failed","error_message":"Invalid event_timestamp parameter. Given timestamp is in the past."},{"status":"processed"}]}}`, 3,
			want{kind: "results", statuses: []destination.Status{D, R, D}}},
		{"200 with a failed event", 200, nil, `{"num_events_received":2,"num_events_processed":1,"events":[{"status":"failed","error_message":"x"},{"status":"processed"}]}`, 2,
			want{kind: "results", statuses: []destination.Status{R, D}}},
		{"statuses missing but all processed", 200, nil, `{"num_events_received":2,"num_events_processed":2}`, 2,
			want{kind: "results", statuses: []destination.Status{D, D}}},
		{"statuses missing and some not processed", 200, nil, `{"num_events_received":2,"num_events_processed":1}`, 2,
			want{kind: "results", statuses: []destination.Status{R, R}}},
		{"echoed e-mail is scrubbed", 422, nil, `{"code":953,"details":{"events":[{"status":"failed","error_message":"em \"john@example.com\" not hashed"}]}}`, 1,
			want{kind: "results", statuses: []destination.Status{R}}},
		{"2xx garbage", 200, nil, `<html>`, 1, want{kind: "retry", reason: "bad_response"}},
		{"422 without details", 422, nil, `{"code":1,"message":"bad"}`, 1, want{kind: "permanent", reason: "invalid_parameter"}},
		{"400 invalid", 400, nil, `{"code":1,"message":"data: must be an array"}`, 1, want{kind: "permanent", reason: "invalid_parameter"}},
		{"401 token", 401, nil, `{"code":2,"message":"Authentication failed."}`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"403 access", 403, nil, `{"code":29,"message":"You are not permitted to access that resource."}`, 1, want{kind: "permanent", reason: "permission_error", credential: true}},
		{"429 default back-off", 429, nil, `{"code":8,"message":"rate limit"}`, 1, want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"429 Retry-After", 429, http.Header{"Retry-After": {"5"}}, ``, 1, want{kind: "retry", reason: "throttled", after: 5 * time.Second}},
		{"503", 503, nil, `oops`, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"404", 404, nil, `{"code":404,"message":"not found"}`, 1, want{kind: "permanent", reason: "http_404"}},
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
				if err != nil || len(res) != len(tt.want.statuses) {
					t.Fatalf("res %+v err %v", res, err)
				}
				for i, r := range res {
					if strings.Contains(r.Detail, "john@example.com") {
						t.Errorf("event %d detail %q echoes personal data", i, r.Detail)
					}
					if r.Status != tt.want.statuses[i] || (r.Status == R && r.Reason == "") {
						t.Errorf("event %d: %+v, want status %d with a reason when rejected", i, r, tt.want.statuses[i])
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
