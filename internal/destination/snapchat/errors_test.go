package snapchat

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestClassify is Snap's error table: a request is accepted or refused as a
// whole.
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
		body   string
		want   want
	}{
		{"success", 200, nil, `{"status":"SUCCESS","reason":"SUCCESS"}`, want{kind: "ok"}},
		{"200 INVALID", 200, nil, `{"status":"INVALID","reason":"Unhashed PII"}`, want{kind: "permanent", reason: "invalid_parameter"}},
		{"400 INVALID", 400, nil, `{"status":"INVALID","reason":"data[0].user_data.em: unhashed PII"}`, want{kind: "permanent", reason: "invalid_parameter"}},
		{"401", 401, nil, `{"status":"UNAUTHORIZED","reason":"bad token"}`, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"403", 403, nil, `forbidden`, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"429 default", 429, nil, `{}`, want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"429 Retry-After", 429, http.Header{"Retry-After": {"9"}}, ``, want{kind: "retry", reason: "throttled", after: 9 * time.Second}},
		{"500", 500, nil, `oops`, want{kind: "retry", reason: "platform_unavailable"}},
		{"408", 408, nil, ``, want{kind: "retry", reason: "platform_unavailable"}},
		{"2xx garbage", 200, nil, `<html>`, want{kind: "retry", reason: "bad_response"}},
		{"404", 404, nil, `{"status":"NOT_FOUND"}`, want{kind: "permanent", reason: "http_404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			_, err := classify(tt.status, h, []byte(tt.body))
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
