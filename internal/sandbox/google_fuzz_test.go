package sandbox

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzGoogleIngest: any body gets a 200 or a google.rpc.Status 400 from the
// Data Manager emulator; never a panic or a 5xx.
func FuzzGoogleIngest(f *testing.F) {
	f.Add(mustJSON(dmRequestJSON(dmEventJSON(testNow, "t"))))
	f.Add([]byte(`{"destinations":[{}],"events":[{"adIdentifiers":{},"userData":{"userIdentifiers":[{"address":{}}]}}]}`))
	f.Add([]byte(`{"events":null}`))
	s := New(Options{Clock: func() time.Time { return testNow }})
	tok := issueToken(testNow.Add(time.Hour))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/events:ingest", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// FuzzGoogleAdsUpload: the same for the Google Ads emulator.
func FuzzGoogleAdsUpload(f *testing.F) {
	f.Add(mustJSON(map[string]any{"conversions": []any{adsConversion(testNow, "o")}, "partialFailure": true}))
	f.Add([]byte(`{"conversionAdjustments":[{"gclidDateTimePair":{},"restatementValue":{}}],"partialFailure":true}`))
	s := New(Options{Clock: func() time.Time { return testNow }})
	tok := issueToken(testNow.Add(time.Hour))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/google_ads/v21/customers/1:uploadClickConversions", "/google_ads/v21/customers/1:uploadConversionAdjustments"} {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, req)
			if w.Code != 200 && w.Code != 400 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
