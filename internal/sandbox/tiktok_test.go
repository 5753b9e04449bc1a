package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const tiktokTestPixel = "C4TESTPIXEL"

func tiktokEvent(now time.Time, id string) map[string]any {
	return map[string]any{
		"event":      "CompletePayment",
		"event_time": now.Add(-time.Minute).Unix(),
		"event_id":   id,
		"user": map[string]any{
			"email":      sha("john_smith@gmail.com"),
			"phone":      sha("+16505551212"),
			"ttclid":     "E.C.P.abc",
			"ip":         "203.0.113.7",
			"user_agent": "Mozilla/5.0",
		},
		"properties": map[string]any{"currency": "USD", "value": 142.52},
	}
}

// tiktokAnswer is TikTok's envelope as a client reads it.
type tiktokAnswer struct {
	Code      *int   `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	Data      struct {
		FailedEvents []tiktokFailed `json:"failed_events"`
	} `json:"data"`
}

func postTikTok(t *testing.T, url, token string, body any) (int, tiktokAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/open_api/v1.3/event/track/", bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Access-Token", token)
	}
	resp := do(t, http.DefaultClient, req)
	var a tiktokAnswer
	if err := json.Unmarshal(resp.body, &a); err != nil || a.Code == nil || a.RequestID == "" {
		t.Fatalf("answer %s is not TikTok's envelope (err %v)", resp.body, err)
	}
	return resp.status, a
}

func TestTikTokAcceptsAndRecords(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{TikTokTokens: map[string]string{tiktokTestPixel: "tok"}})
	status, a := postTikTok(t, ts.URL, "tok", map[string]any{
		"event_source": "web", "event_source_id": tiktokTestPixel, "test_event_code": "TEST1",
		"data": []any{tiktokEvent(testNow, "a"), tiktokEvent(testNow, "b")},
	})
	if status != 200 || *a.Code != 0 {
		t.Fatalf("status %d code %d %s", status, *a.Code, a.Message)
	}
	evs := s.TikTok().Events()
	if len(evs) != 2 || evs[0].EventID != "a" || evs[1].Account != tiktokTestPixel || !evs[0].Test || evs[0].EventName != "CompletePayment" {
		t.Fatalf("recorded %+v", evs)
	}
	postTikTok(t, ts.URL, "tok", map[string]any{"event_source": "web", "event_source_id": tiktokTestPixel, "data": []any{tiktokEvent(testNow, "a")}})
	if st := s.TikTok().Stats(); st.Accepted != 3 || st.Duplicates != 1 {
		t.Errorf("stats %+v, want 3 accepted and 1 duplicate", st)
	}
}

func TestTikTokRejectsRequests(t *testing.T) {
	t.Parallel()
	ok := func() map[string]any {
		return map[string]any{"event_source": "web", "event_source_id": tiktokTestPixel, "data": []any{tiktokEvent(testNow, "a")}}
	}
	tests := []struct {
		name     string
		token    string
		mutate   func(map[string]any)
		wantCode int
		wantMsg  string
	}{
		{"no token", "", func(map[string]any) {}, 40104, "Access token is null"},
		{"wrong token", "nope", func(map[string]any) {}, 40105, "incorrect or has been revoked"},
		{"unknown event_source", "tok", func(b map[string]any) { b["event_source"] = "website" }, 40000, "event_source"},
		{"missing event_source_id", "tok", func(b map[string]any) { delete(b, "event_source_id") }, 40000, "event_source_id"},
		{"empty data", "tok", func(b map[string]any) { b["data"] = []any{} }, 40000, "1 to 1000"},
		{"too many events", "tok", func(b map[string]any) {
			evs := make([]any, 1001)
			for i := range evs {
				evs[i] = tiktokEvent(testNow, "x")
			}
			b["data"] = evs
		}, 40000, "1 to 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{TikTokTokens: map[string]string{tiktokTestPixel: "tok"}})
			b := ok()
			tt.mutate(b)
			status, a := postTikTok(t, ts.URL, tt.token, b)
			if status != 200 || *a.Code != tt.wantCode || !strings.Contains(a.Message, tt.wantMsg) {
				t.Fatalf("status %d code %d %q; want 200, code %d with %q", status, *a.Code, a.Message, tt.wantCode, tt.wantMsg)
			}
			if n := len(s.TikTok().Events()); n != 0 {
				t.Errorf("%d events recorded from a refused request", n)
			}
		})
	}
}

// TestTikTokPartialFailure: bad events are named in data.failed_events with
// code 20001; the good ones are recorded.
func TestTikTokPartialFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(ev map[string]any)
		wantMsg string
	}{
		{"unhashed email", func(ev map[string]any) { ev["user"].(map[string]any)["email"] = "john@example.com" }, "user.email: must be SHA-256 hashed"},
		{"uppercase hash", func(ev map[string]any) { ev["user"].(map[string]any)["phone"] = strings.ToUpper(sha("+1")) }, "user.phone"},
		{"hashed ttclid", func(ev map[string]any) { ev["user"].(map[string]any)["ttclid"] = sha("x") }, "user.ttclid: must not be hashed"},
		{"bad ip", func(ev map[string]any) { ev["user"].(map[string]any)["ip"] = "unknown" }, "user.ip"},
		{"no identifiers", func(ev map[string]any) { ev["user"] = map[string]any{"user_agent": "UA"} }, "needs at least one"},
		{"missing user", func(ev map[string]any) { delete(ev, "user") }, "user: required"},
		{"missing event", func(ev map[string]any) { delete(ev, "event") }, "event: required"},
		{"time in milliseconds", func(ev map[string]any) { ev["event_time"] = testNow.UnixMilli() }, "in the future"},
		{"time as float", func(ev map[string]any) { ev["event_time"] = 1.5 }, "integer Unix time"},
		{"older than 7 days", func(ev map[string]any) { ev["event_time"] = testNow.Add(-8 * 24 * time.Hour).Unix() }, "older than 7 days"},
		{"value as string", func(ev map[string]any) { ev["properties"] = map[string]any{"value": "1.0"} }, "properties.value"},
		{"currency bad", func(ev map[string]any) { ev["properties"] = map[string]any{"currency": "dollars"} }, "properties.currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			bad := tiktokEvent(testNow, "bad")
			tt.mutate(bad)
			status, a := postTikTok(t, ts.URL, "any", map[string]any{"event_source": "web", "event_source_id": "P",
				"data": []any{tiktokEvent(testNow, "good"), bad}})
			if status != 200 || *a.Code != 20001 || len(a.Data.FailedEvents) != 1 {
				t.Fatalf("status %d code %d failed %+v; want 20001 naming one event", status, *a.Code, a.Data.FailedEvents)
			}
			f := a.Data.FailedEvents[0]
			if f.Index != 1 || !strings.HasPrefix(f.Message, "data[1].") || !strings.Contains(f.Message, tt.wantMsg) {
				t.Errorf("failed event %+v, want index 1 and %q", f, tt.wantMsg)
			}
			if evs := s.TikTok().Events(); len(evs) != 1 || evs[0].EventID != "good" {
				t.Errorf("recorded %+v, want only the good event", evs)
			}
		})
	}
}

func TestTikTokFaultUsesItsEnvelope(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	s.SetFault(tiktokName, Fault{Status: 429, RetryAfter: 2 * time.Second})
	status, a := postTikTok(t, ts.URL, "any", map[string]any{"event_source": "web", "event_source_id": "P", "data": []any{tiktokEvent(testNow, "a")}})
	if status != 429 || *a.Code != 40100 {
		t.Fatalf("status %d code %d; want 429 with code 40100", status, *a.Code)
	}
}
