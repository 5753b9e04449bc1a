package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	testRedditPixel = "t2_abc123"
	testRedditToken = "reddit-test-token"
)

// validRedditEvent returns a v3 conversion event that satisfies every rule.
func validRedditEvent(now time.Time, id string) map[string]any {
	return map[string]any{
		"event_at":      now.Add(-time.Hour).UnixMilli(),
		"action_source": "WEBSITE",
		"type":          map[string]any{"tracking_type": "PURCHASE"},
		"click_id":      "rdt-click",
		"user": map[string]any{
			"email": sha("john_smith@gmail.com"), "phone_number": sha("+16505551212"),
			"ip_address": sha("203.0.113.7"), "user_agent": "Mozilla/5.0",
		},
		"metadata": map[string]any{"conversion_id": id, "currency": "USD", "value": 142.52, "item_count": 3},
	}
}

func postReddit(t *testing.T, url string, client *http.Client, pixel string, body any, edit func(http.Header)) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/api/v3/pixels/"+pixel+"/conversion_events", bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testRedditToken)
	if edit != nil {
		edit(req.Header)
	}
	return do(t, client, req)
}

// redditErrorBody decodes Reddit's {"error":{...}} envelope.
func redditErrorBody(t *testing.T, r response) redditError {
	t.Helper()
	var e struct {
		Error *redditError `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %s: want {\"error\":{code,message}}", r.body)
	}
	return *e.Error
}

// TestRedditRejections: what Reddit refuses, with its error envelope; the
// details name the invalid event and field, and nothing is recorded.
func TestRedditRejections(t *testing.T) {
	t.Parallel()
	user := func(ev map[string]any) map[string]any { return ev["user"].(map[string]any) }
	tests := []struct {
		name      string
		pixel     string
		edit      func(ev map[string]any)
		header    func(http.Header)
		wantCode  int
		wantErr   string
		wantField string
	}{
		{"no token", testRedditPixel, nil, func(h http.Header) { h.Del("Authorization") }, 401, "UNAUTHORIZED", ""},
		{"wrong token", testRedditPixel, nil, func(h http.Header) { h.Set("Authorization", "Bearer x") }, 401, "UNAUTHORIZED", ""},
		{"bad pixel", "no-such-pixel!", nil, nil, 404, "NOT_FOUND", ""},
		{"unhashed email", testRedditPixel, func(ev map[string]any) { user(ev)["email"] = "john@example.com" }, nil, 400, "INVALID_EVENTS", "data.events[1].user.email"},
		{"raw IP", testRedditPixel, func(ev map[string]any) { user(ev)["ip_address"] = "203.0.113.7" }, nil, 400, "INVALID_EVENTS", "data.events[1].user.ip_address"},
		{"unhashed phone in E.164", testRedditPixel, func(ev map[string]any) { user(ev)["phone_number"] = "+16505551212" }, nil, 400, "INVALID_EVENTS", "data.events[1].user.phone_number"},
		{"older than 7 days", testRedditPixel, func(ev map[string]any) { ev["event_at"] = testNow.Add(-8 * 24 * time.Hour).UnixMilli() }, nil, 400, "INVALID_EVENTS", "data.events[1].event_at"},
		{"seconds not milliseconds", testRedditPixel, func(ev map[string]any) { ev["event_at"] = testNow.Unix() }, nil, 400, "INVALID_EVENTS", "data.events[1].event_at"},
		{"in the future", testRedditPixel, func(ev map[string]any) { ev["event_at"] = testNow.Add(time.Hour).UnixMilli() }, nil, 400, "INVALID_EVENTS", "data.events[1].event_at"},
		{"v2 event type spelling", testRedditPixel, func(ev map[string]any) { ev["type"] = map[string]any{"tracking_type": "Purchase"} }, nil, 400, "INVALID_EVENTS", "data.events[1].type.tracking_type"},
		{"custom without name", testRedditPixel, func(ev map[string]any) { ev["type"] = map[string]any{"tracking_type": "CUSTOM"} }, nil, 400, "INVALID_EVENTS", "data.events[1].type.custom_event_name"},
		{"no match key", testRedditPixel, func(ev map[string]any) { delete(ev, "click_id"); ev["user"] = map[string]any{"user_agent": "UA"} }, nil, 400, "INVALID_EVENTS", "data.events[1].user"},
		{"missing action source", testRedditPixel, func(ev map[string]any) { delete(ev, "action_source") }, nil, 400, "INVALID_EVENTS", "data.events[1].action_source"},
		{"value as string", testRedditPixel, func(ev map[string]any) { ev["metadata"].(map[string]any)["value"] = "142.52" }, nil, 400, "INVALID_EVENTS", "data.events[1].metadata.value"},
		{"lower-case currency", testRedditPixel, func(ev map[string]any) { ev["metadata"].(map[string]any)["currency"] = "usd" }, nil, 400, "INVALID_EVENTS", "data.events[1].metadata.currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{BearerTokens: map[string]string{redditName: testRedditToken}})
			bad := validRedditEvent(testNow, "bad")
			if tt.edit != nil {
				tt.edit(bad)
			}
			body := map[string]any{"data": map[string]any{"events": []any{validRedditEvent(testNow, "good"), bad}}}
			r := postReddit(t, ts.URL, ts.Client(), tt.pixel, body, tt.header)
			e := redditErrorBody(t, r)
			if r.status != tt.wantCode || e.Code != tt.wantErr {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.wantCode, tt.wantErr)
			}
			if tt.wantField != "" && (len(e.Details) != 1 || e.Details[0].Index != 1 || e.Details[0].Field != tt.wantField) {
				t.Errorf("details = %+v, want index 1 at %s", e.Details, tt.wantField)
			}
			if strings.Contains(string(r.body), "john@example.com") || strings.Contains(string(r.body), "203.0.113.7") {
				t.Errorf("error echoes a raw value: %s", r.body)
			}
			if st := s.Reddit().Stats(); st.Accepted != 0 || st.Rejected != 1 {
				t.Errorf("stats = %+v, want nothing accepted", st)
			}
		})
	}
}

// TestRedditBatchLimitAndTestMode: 1,000 events pass, 1,001 do not; test_id
// marks the recorded events; a resent conversion_id counts as a duplicate.
func TestRedditBatchLimitAndTestMode(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	evs := make([]any, redditMaxBatch+1)
	for i := range evs {
		evs[i] = validRedditEvent(testNow, "same")
	}
	if r := postReddit(t, ts.URL, ts.Client(), testRedditPixel, map[string]any{"data": map[string]any{"events": evs}}, nil); r.status != 400 || redditErrorBody(t, r).Code != "INVALID_REQUEST" {
		t.Fatalf("1001 events: %d %s", r.status, r.body)
	}
	r := postReddit(t, ts.URL, ts.Client(), testRedditPixel, map[string]any{"data": map[string]any{"test_id": "t2_test", "events": evs[:redditMaxBatch]}}, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "Successfully processed 1000") {
		t.Fatalf("1000 events: %d %s", r.status, r.body)
	}
	st := s.Reddit().Stats()
	if st.Accepted != redditMaxBatch || st.Duplicates != redditMaxBatch-1 {
		t.Errorf("stats = %+v", st)
	}
	if ev := s.Reddit().Events()[0]; !ev.Test || ev.Account != testRedditPixel || ev.EventID != "same" || ev.EventName != "PURCHASE" {
		t.Errorf("recorded %+v", ev)
	}
}
