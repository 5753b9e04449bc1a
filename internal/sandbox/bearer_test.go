package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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

// FuzzBearerPlatforms: whatever body reaches the LinkedIn, Reddit or
// Microsoft emulators, they answer a 2xx or 4xx in JSON and never panic.
func FuzzBearerPlatforms(f *testing.F) {
	f.Add(uint8(0), `{"elements":[{"conversion":"urn:lla:llaPartnerConversion:1","conversionHappenedAt":1772366400000,"user":{"userIds":[{"idType":"SHA256_EMAIL","idValue":"x"}]}}]}`)
	f.Add(uint8(1), `{"data":{"events":[{"event_at":1772366400000,"action_source":"WEBSITE","type":{"tracking_type":"CUSTOM"},"metadata":{"item_count":-1}}]}}`)
	f.Add(uint8(2), `{"data":[{"eventType":"custom","eventTime":1772366400,"userData":{"msclkid":1}}],"continueOnValidationError":true}`)
	f.Add(uint8(3), `{"OfflineConversions":[{"MicrosoftClickId":"a","ConversionName":"n","ConversionTime":"2026-03-01T11:00:00Z","ConversionValue":"1"}]}`)
	paths := []string{"/rest/conversionEvents", "/api/v3/pixels/t2_x/conversion_events", "/v1/123/events", "/CampaignManagement/v13/OfflineConversions/Apply"}
	s := New(Options{Clock: newFakeClock().Now, MaxRecorded: -1})
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, paths[int(which)%len(paths)], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("LinkedIn-Version", "202601")
		req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
		req.Header.Set("X-RestLi-Method", "BATCH_CREATE")
		req.Header.Set("DeveloperToken", "d")
		req.Header.Set("CustomerId", "1")
		req.Header.Set("CustomerAccountId", "2")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 || !json.Valid(rec.Body.Bytes()) && rec.Body.Len() > 0 {
			t.Fatalf("%s: answered %d %q", req.URL.Path, rec.Code, rec.Body.String())
		}
	})
}
