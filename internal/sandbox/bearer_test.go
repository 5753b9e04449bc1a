package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestBearerPlatformFaults: an injected fault is answered in each platform's
// own error shape, with a Retry-After when asked, and counted as faulted.
func TestBearerPlatformFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform string
		path     string
		status   int
		code     func(body []byte) string
		want     string
	}{
		{linkedinName, "/rest/conversionEvents", 429, func(b []byte) string {
			var e linkedinError
			_ = json.Unmarshal(b, &e)
			return e.Code
		}, "TOO_MANY_REQUESTS"},
		{redditName, "/api/v3/pixels/t2_x/conversion_events", 401, func(b []byte) string {
			var e struct{ Error redditError }
			_ = json.Unmarshal(b, &e)
			return e.Error.Code
		}, "UNAUTHORIZED"},
		{microsoftName, "/v1/123/events", 503, func(b []byte) string {
			var e struct{ Error struct{ Code string } }
			_ = json.Unmarshal(b, &e)
			return e.Error.Code
		}, "InternalServerError"},
		{microsoftOfflineName, "/CampaignManagement/v13/OfflineConversions/Apply", 429, func(b []byte) string {
			var e struct{ OperationErrors []bingOpError }
			_ = json.Unmarshal(b, &e)
			if len(e.OperationErrors) != 1 {
				return ""
			}
			return e.OperationErrors[0].ErrorCode
		}, "CallRateExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			s.SetFault(tt.platform, Fault{Status: tt.status, RetryAfter: 3 * time.Second})
			for _, path := range []string{tt.path, "/" + tt.platform + tt.path} {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader([]byte(`{}`)))
				r := do(t, ts.Client(), req)
				if r.status != tt.status || r.header.Get("Retry-After") != "3" || tt.code(r.body) != tt.want {
					t.Errorf("%s: got %d %s (Retry-After %q), want %d with code %s", path, r.status, r.body, r.header.Get("Retry-After"), tt.status, tt.want)
				}
			}
			if got := s.platforms[tt.platform].api.counters().faulted.Load(); got != 2 {
				t.Errorf("faulted = %d, want 2", got)
			}
		})
	}
}
