package reddit

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestClassify is the contract for Reddit's answers.
func TestClassify(t *testing.T) {
	t.Parallel()
	R, D, X := destination.Rejected, destination.Delivered, destination.Retry
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
		{"accepted", 200, nil, `{"data":{"message":"Successfully processed 2 conversion events."}}`, 2, want{kind: "results", statuses: []destination.Status{D, D}}},
		{"400 naming events", 400, nil,
			`{"error":{"code":"INVALID_EVENTS","message":"2 of 3 events are invalid","details":[{"index":0,"field":"data.events[0].event_at","message":"event is older than 7 days"},{"index":2,"field":"data.events[2].user.email","message":"must be hashed"}]}}`, 3,
			want{kind: "results", statuses: []destination.Status{R, X, R}}},
		{"indexes outside the batch are ignored", 400, nil, `{"error":{"code":"INVALID_EVENTS","message":"m","details":[{"index":5,"message":"x"},{"index":0,"message":"y"}]}}`, 2,
			want{kind: "results", statuses: []destination.Status{R, X}}},
		{"400 naming no event", 400, nil, `{"error":{"code":"INVALID_REQUEST","message":"data.events must hold 1 to 1000 events"}}`, 2, want{kind: "permanent", reason: "invalid_request"}},
		{"401", 401, nil, `{"error":{"code":"UNAUTHORIZED","message":"invalid conversion access token"}}`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"403", 403, nil, `{"error":{"code":"FORBIDDEN","message":"m"}}`, 1, want{kind: "permanent", reason: "permission_error", credential: true}},
		{"404 pixel", 404, nil, `{"error":{"code":"NOT_FOUND","message":"pixel not found"}}`, 1, want{kind: "permanent", reason: "unknown_pixel", credential: true}},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"12"}}, ``, 1, want{kind: "retry", reason: "throttled", after: 12 * time.Second}},
		{"429 without header", 429, nil, `{"error":{"code":"RATE_LIMITED","message":"m"}}`, 1, want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"500", 500, nil, `<html>`, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"408", 408, nil, ``, 1, want{kind: "retry", reason: "timeout"}},
		{"413", 413, nil, ``, 1, want{kind: "permanent", reason: "http_413"}},
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
					t.Fatalf("classify = %v, %v", res, err)
				}
				for i, r := range res {
					if r.Status != tt.want.statuses[i] {
						t.Errorf("result %d = %+v, want status %d", i, r, tt.want.statuses[i])
					}
					if r.Status == destination.Rejected && (r.Reason != "invalid_event" || r.Detail == "") {
						t.Errorf("result %d = %+v, want invalid_event with a detail", i, r)
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

// TestClassifyHidesEchoedValues: a detail never carries a value Reddit
// might echo back.
func TestClassifyHidesEchoedValues(t *testing.T) {
	t.Parallel()
	res, err := classify(400, http.Header{}, []byte(`{"error":{"code":"INVALID_EVENTS","message":"m","details":[{"index":0,"field":"data.events[0].user.email","message":"value 'jane@example.com' is not hashed"}]}}`), 1)
	if err != nil || len(res) != 1 || strings.Contains(res[0].Detail, "jane@example.com") || !strings.Contains(res[0].Detail, "user.email") {
		t.Fatalf("classify = %+v, %v", res, err)
	}
}
