package webhook

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestClassify is the contract every receiver answer must meet.
func TestClassify(t *testing.T) {
	t.Parallel()
	type want struct {
		kind       string // ok, retry, permanent
		reason     string
		credential bool
		after      time.Duration // exact, or at least this much when minAfter
		minAfter   bool
		detail     string // a substring of the detail
	}
	longBody := []byte(`{"error":"` + strings.Repeat("x", 250) + `"}`)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
		want   want
	}{
		{"200", 200, nil, []byte(`{"ok":true}`), want{kind: "ok"}},
		{"202 empty body", 202, nil, nil, want{kind: "ok"}},
		{"204", 204, nil, nil, want{kind: "ok"}},
		{"408", 408, nil, nil, want{kind: "retry", reason: "timeout", detail: "HTTP 408: Request Timeout"}},
		{"429 with Retry-After seconds", 429, http.Header{"Retry-After": {"7"}}, nil, want{kind: "retry", reason: "throttled", after: 7 * time.Second}},
		{"429 with Retry-After date", 429, http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}, nil,
			want{kind: "retry", reason: "throttled", after: 58 * time.Minute, minAfter: true}},
		{"429 with a past date", 429, http.Header{"Retry-After": {"Mon, 02 Jan 2006 15:04:05 GMT"}}, nil, want{kind: "retry", reason: "throttled", after: 0}},
		{"429 with garbage Retry-After", 429, http.Header{"Retry-After": {"soon"}}, nil, want{kind: "retry", reason: "throttled", after: 0}},
		{"500", 500, nil, []byte("oops"), want{kind: "retry", reason: "platform_unavailable", detail: "HTTP 500: oops"}},
		{"503 with Retry-After", 503, http.Header{"Retry-After": {"3"}}, nil, want{kind: "retry", reason: "platform_unavailable", after: 3 * time.Second}},
		{"401", 401, nil, []byte(`{"error":"bad signature"}`), want{kind: "permanent", reason: "auth_error", credential: true, detail: "bad signature"}},
		{"403", 403, nil, nil, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"413", 413, nil, nil, want{kind: "permanent", reason: "payload_too_large", detail: "batch_size"}},
		{"400 with JSON message", 400, nil, []byte(`{"message":"missing field\nfoo"}`), want{kind: "permanent", reason: "http_400", detail: "HTTP 400: missing field foo"}},
		{"422 with nested error", 422, nil, []byte(`{"error":{"message":"nope"}}`), want{kind: "permanent", reason: "http_422", detail: "nope"}},
		{"404 long body is not repeated", 404, nil, longBody, want{kind: "permanent", reason: "http_404", detail: "HTTP 404: Not Found"}},
		{"302 is not followed", 302, http.Header{"Location": {"https://elsewhere"}}, nil, want{kind: "permanent", reason: "http_302", detail: "redirects"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			err := classify(tt.status, h, tt.body)
			var detail string
			switch tt.want.kind {
			case "ok":
				if err != nil {
					t.Fatalf("err = %v, want accepted", err)
				}
				return
			case "retry":
				re, ok := destination.AsRetryable(err)
				if !ok || re.Reason != tt.want.reason {
					t.Fatalf("err = %#v, want retryable %s", err, tt.want.reason)
				}
				if tt.want.minAfter && re.After < tt.want.after || !tt.want.minAfter && re.After != tt.want.after {
					t.Errorf("After = %s, want %s", re.After, tt.want.after)
				}
				detail = re.Detail
			case "permanent":
				pe, ok := destination.AsPermanent(err)
				if !ok || pe.Reason != tt.want.reason || pe.Credential != tt.want.credential {
					t.Fatalf("err = %#v, want permanent %s (credential %v)", err, tt.want.reason, tt.want.credential)
				}
				detail = pe.Detail
			}
			if !strings.Contains(detail, tt.want.detail) {
				t.Errorf("detail %q, want it to contain %q", detail, tt.want.detail)
			}
			if strings.Contains(detail, "xxxxx") || strings.ContainsAny(detail, "\n\r") {
				t.Errorf("detail %q repeats a long body or is not one line", detail)
			}
		})
	}
}

// TestSign checks against HMACs computed outside Go, e.g.
// printf '%s' '1795168800.{"events":[]}' | openssl dgst -sha256 -hmac 'whsec_test-Secret'.
func TestSign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		ts     int64
		body   string
		want   string
	}{
		{"empty batch", "whsec_test-Secret", 1795168800, `{"events":[]}`, "sha256=d327c278e01475672a3f0aaf7d9c5892840963ed36587c8c5c70b641565898cf"},
		{"secret with spaces", "k3y with spaces", 1700000000, `{"events":[{"event_id":"e1"}]}`, "sha256=d9fa98b7e5dd1fa57c60f4da47c4a9a49fe5a4e968ae4841cb81aaa72f6f160f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Sign(tt.secret, tt.ts, []byte(tt.body)); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
	// printf '%s' '{"events":[]}' | sha256sum → 24de1c4a19c43ad4…
	if got := batchID([]byte(`{"events":[]}`)); got != "24de1c4a19c43ad4" {
		t.Errorf("batchID = %s, want 24de1c4a19c43ad4", got)
	}
}
