package google

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
)

// rpc builds a google.rpc.Status body as Google's REST APIs answer.
func rpc(code int, status, msg string) string {
	return `{"error":{"code":` + itoa(code) + `,"message":"` + msg + `","status":"` + status + `","details":[` +
		`{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"events[0].eventTimestamp","description":"required"}]},` +
		`{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"req-9"}]}}`
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestClassify follows Google's error model (canonical codes, AIP-193) and
// the Data Manager's fast-fail rule.
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
		{"accepted", 200, nil, `{"requestId":"r-1"}`, want{kind: "ok"}},
		{"2xx garbage", 200, nil, `<html>`, want{kind: "retry", reason: "bad_response"}},
		{"invalid argument", 400, nil, rpc(400, "INVALID_ARGUMENT", "Request contains an invalid argument."), want{kind: "permanent", reason: "invalid_argument"}},
		{"unauthenticated", 401, nil, rpc(401, "UNAUTHENTICATED", "bad token"), want{kind: "permanent", reason: "auth_error", credential: true}},
		{"permission denied", 403, nil, rpc(403, "PERMISSION_DENIED", "no access to the account"), want{kind: "permanent", reason: "permission_error", credential: true}},
		{"not found", 404, nil, rpc(404, "NOT_FOUND", "no such conversion action"), want{kind: "permanent", reason: "not_found"}},
		{"quota with Retry-After", 429, http.Header{"Retry-After": {"12"}}, rpc(429, "RESOURCE_EXHAUSTED", "quota"), want{kind: "retry", reason: "throttled", after: 12 * time.Second}},
		{"quota without header", 429, nil, rpc(429, "RESOURCE_EXHAUSTED", "quota"), want{kind: "retry", reason: "throttled", after: googleapi.DefaultThrottleBackoff}},
		{"internal", 500, nil, rpc(500, "INTERNAL", "oops"), want{kind: "retry", reason: "platform_unavailable"}},
		{"unavailable plain body", 503, nil, `upstream connect error`, want{kind: "retry", reason: "platform_unavailable"}},
		{"deadline", 504, nil, rpc(504, "DEADLINE_EXCEEDED", "slow"), want{kind: "retry", reason: "timeout"}},
		{"aborted", 409, nil, rpc(409, "ABORTED", "concurrent"), want{kind: "retry", reason: "platform_unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			ref, err := classify(tt.status, h, []byte(tt.body))
			switch tt.want.kind {
			case "ok":
				if err != nil || ref != "r-1" {
					t.Fatalf("ref %q err %v, want accepted with r-1", ref, err)
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
				if tt.body[0] == '{' && pe.PlatformRef != "req-9" {
					t.Errorf("platform ref %q, want the RequestInfo id", pe.PlatformRef)
				}
			}
		})
	}
}
