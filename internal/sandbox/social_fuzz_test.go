package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzTikTokSnapchatPinterest sends arbitrary bodies to the three
// emulators: each answers in its own envelope, never with a 5xx, and records
// events only when its answer says it accepted some.
func FuzzTikTokSnapchatPinterest(f *testing.F) {
	f.Add(uint8(0), mustJSON(map[string]any{"event_source": "web", "event_source_id": "P", "data": []any{tiktokEvent(testNow, "a")}}))
	f.Add(uint8(1), mustJSON(map[string]any{"data": []any{snapchatEvent(testNow, "a")}}))
	f.Add(uint8(2), mustJSON(map[string]any{"data": []any{pinterestEvent(testNow, "a"), 5}}))
	f.Add(uint8(0), []byte(`{"event_source":"web","event_source_id":"P","data":[{"event":"x","event_time":"12","user":{"email":["`+sha("a")+`",1]}}]}`))
	f.Add(uint8(2), []byte(`{"data":[{"user_data":{"em":[]}}]}`))
	f.Add(uint8(1), []byte(`[`))

	clock := newFakeClock()
	s := New(Options{Clock: clock.Now})
	h := s.Handler()
	type target struct {
		path     string
		header   string
		accepted func() int64
		envelope func(status int, body []byte) bool
	}
	targets := []target{
		{"/open_api/v1.3/event/track/", "Access-Token", func() int64 { return s.TikTok().Stats().Accepted }, func(status int, b []byte) bool {
			var a struct{ Code *int }
			return json.Unmarshal(b, &a) == nil && a.Code != nil && status == 200 // TikTok answers every outcome with 200 and a code
		}},
		{"/v3/px/events", "Authorization", func() int64 { return s.Snapchat().Stats().Accepted }, func(status int, b []byte) bool {
			var a struct{ Status string }
			return json.Unmarshal(b, &a) == nil && (a.Status == "SUCCESS") == (status == 200)
		}},
		{"/v5/ad_accounts/42/events", "Authorization", func() int64 { return s.Pinterest().Stats().Accepted }, func(status int, b []byte) bool {
			var a map[string]any
			return json.Unmarshal(b, &a) == nil && (status == 200 || status == 422 || a["code"] != nil)
		}},
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tg := targets[int(which)%len(targets)]
		before := tg.accepted()
		req := httptest.NewRequest(http.MethodPost, tg.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tg.header == "Authorization" {
			req.Header.Set("Authorization", "Bearer t")
		} else {
			req.Header.Set(tg.header, "t")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s: status %d for %q", tg.path, rec.Code, body)
		}
		if !tg.envelope(rec.Code, rec.Body.Bytes()) {
			t.Fatalf("%s: answer %d %s is not the platform's envelope", tg.path, rec.Code, rec.Body.Bytes())
		}
		accepted := tg.accepted() - before
		refused := rec.Code != 200 && rec.Code != 422 || bytes.Contains(rec.Body.Bytes(), []byte(`"code":40`)) && !bytes.Contains(rec.Body.Bytes(), []byte(`"code":20001`))
		if refused && accepted != 0 {
			t.Fatalf("%s: %d events recorded from a refused request (status %d)", tg.path, accepted, rec.Code)
		}
	})
}
