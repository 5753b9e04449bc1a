package meta

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// graph is a Graph API error body.
func graph(code, sub int, transient bool) []byte {
	b := `{"error":{"message":"m","type":"OAuthException","code":` + strconv.Itoa(code) + `,"error_subcode":` + strconv.Itoa(sub) + `,"fbtrace_id":"TR"`
	if transient {
		b += `,"is_transient":true`
	}
	return []byte(b + `}}`)
}

// TestClassify follows Meta's error-handling guide: the table is the
// contract every response must meet.
func TestClassify(t *testing.T) {
	t.Parallel()
	type want struct {
		kind       string // ok, retry, permanent
		reason     string
		credential bool
		after      time.Duration
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
		want   want
	}{
		{"accepted", 200, nil, []byte(`{"events_received":3,"messages":[],"fbtrace_id":"AbC"}`), want{kind: "ok"}},
		{"2xx garbage is retried (resend is deduplicated)", 200, nil, []byte(`<html>`), want{kind: "retry", reason: "bad_response"}},
		{"500 plain", 500, nil, []byte(`oops`), want{kind: "retry", reason: "platform_unavailable"}},
		{"503 with Retry-After", 503, http.Header{"Retry-After": {"7"}}, graph(2, 0, true), want{kind: "retry", reason: "platform_unavailable", after: 7 * time.Second}},
		{"code 1 unknown", 400, nil, graph(1, 0, false), want{kind: "retry", reason: "platform_unavailable"}},
		{"is_transient", 400, nil, graph(99, 0, true), want{kind: "retry", reason: "platform_unavailable"}},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"3"}}, graph(613, 1487742, false), want{kind: "retry", reason: "throttled", after: 3 * time.Second}},
		{"code 17 user throttling without header", 400, nil, graph(17, 2446079, false), want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"code 4 app throttling", 400, nil, graph(4, 0, false), want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"code 32 and 341", 400, nil, graph(341, 0, false), want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"unhashed PII", 400, nil, graph(100, 2804016, false), want{kind: "permanent", reason: "invalid_parameter"}},
		{"token expired", 400, nil, graph(190, 463, false), want{kind: "permanent", reason: "auth_error", credential: true}},
		{"permission", 403, nil, graph(200, 0, false), want{kind: "permanent", reason: "permission_error", credential: true}},
		{"code 10", 400, nil, graph(10, 0, false), want{kind: "permanent", reason: "permission_error", credential: true}},
		{"408", 408, nil, nil, want{kind: "retry", reason: "timeout"}},
		{"404 other", 404, nil, []byte(`not found`), want{kind: "permanent", reason: "http_404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			_, err := classify(tt.status, h, tt.body)
			switch tt.want.kind {
			case "ok":
				if err != nil {
					t.Fatalf("err = %v, want accepted", err)
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
