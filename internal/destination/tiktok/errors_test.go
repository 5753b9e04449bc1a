package tiktok

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestClassify is TikTok's error table: the answer code decides, HTTP
// status only when the body has none.
func TestClassify(t *testing.T) {
	t.Parallel()
	type want struct {
		kind       string // delivered, results, retry, permanent
		reason     string
		credential bool
		after      time.Duration
		statuses   []destination.Status // for kind results
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		n      int
		want   want
	}{
		{"code 0", 200, nil, `{"code":0,"message":"OK","request_id":"R1","data":{}}`, 2, want{kind: "delivered"}},
		{"partial names the failed event", 200, nil, `{"code":20001,"message":"Partial","request_id":"R","data":{"failed_events":[{"index":1,"code":40000,"message":"bad"}]}}`, 3,
			want{kind: "results", statuses: []destination.Status{destination.Delivered, destination.Rejected, destination.Delivered}}},
		{"partial with a list of indexes", 200, nil, `{"code":20001,"message":"Partial","request_id":"R","data":{"failed_events":[{"index":[0,2],"message":"bad"}]}}`, 3,
			want{kind: "results", statuses: []destination.Status{destination.Rejected, destination.Delivered, destination.Rejected}}},
		{"partial naming nothing rejects all", 200, nil, `{"code":20001,"message":"Partial","request_id":"R","data":{}}`, 2,
			want{kind: "results", statuses: []destination.Status{destination.Rejected, destination.Rejected}}},
		{"partial index out of range ignored", 200, nil, `{"code":20001,"message":"Partial","data":{"failed_events":[{"index":9}]}}`, 1,
			want{kind: "results", statuses: []destination.Status{destination.Rejected}}},
		{"40100 throttled in a 200", 200, nil, `{"code":40100,"message":"Too many requests"}`, 1, want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"4"}}, `{"code":40100,"message":"Too many"}`, 1, want{kind: "retry", reason: "throttled", after: 4 * time.Second}},
		{"429 without body", 429, nil, ``, 1, want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"40700 retried", 200, nil, `{"code":40700,"message":"server side"}`, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"50000 retried", 200, nil, `{"code":50000,"message":"internal"}`, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"HTTP 503 plain", 503, nil, `<html>`, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"40001 no permission", 200, nil, `{"code":40001,"message":"No permission"}`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"40002 per the reference", 200, nil, `{"code":40002,"message":"auth"}`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"40104 token empty", 200, nil, `{"code":40104,"message":"Access token is null"}`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"40105 token revoked", 200, nil, `{"code":40105,"message":"revoked"}`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"HTTP 401 without code", 401, nil, `unauthorized`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"other 4xxxx is invalid", 200, nil, `{"code":40000,"message":"data[0].event: required"}`, 1, want{kind: "permanent", reason: "invalid_parameter"}},
		{"2xx garbage retried", 200, nil, `<html>`, 1, want{kind: "retry", reason: "bad_response"}},
		{"echoed e-mail is scrubbed from the detail", 200, nil, `{"code":40000,"message":"user.email 'john@example.com' is not hashed"}`, 1, want{kind: "permanent", reason: "invalid_parameter"}},
		{"404 plain", 404, nil, `not found`, 1, want{kind: "permanent", reason: "http_404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			res, err := classify(tt.status, h, []byte(tt.body), tt.n)
			if err != nil && strings.Contains(err.Error(), "john@example.com") {
				t.Errorf("error %q echoes personal data", err)
			}
			switch tt.want.kind {
			case "delivered":
				if err != nil || len(res) != tt.n {
					t.Fatalf("res %+v err %v", res, err)
				}
				for _, r := range res {
					if r.Status != destination.Delivered || r.PlatformRef != "R1" {
						t.Errorf("result %+v, want delivered with request id", r)
					}
				}
			case "results":
				if err != nil || len(res) != len(tt.want.statuses) {
					t.Fatalf("res %+v err %v", res, err)
				}
				for i, r := range res {
					if r.Status != tt.want.statuses[i] {
						t.Errorf("event %d: %+v, want status %d", i, r, tt.want.statuses[i])
					}
					if r.Status == destination.Rejected && r.Reason == "" {
						t.Errorf("event %d rejected without a reason", i)
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
