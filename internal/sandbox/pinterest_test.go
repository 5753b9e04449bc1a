package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const pinterestTestAccount = "549755885175"

func pinterestEvent(now time.Time, id string) map[string]any {
	return map[string]any{
		"event_name":    "checkout",
		"action_source": "web",
		"event_time":    now.Add(-time.Minute).Unix(),
		"event_id":      id,
		"user_data": map[string]any{
			"em":                []string{sha("john_smith@gmail.com")},
			"ph":                []string{sha("16505551212")},
			"client_ip_address": "203.0.113.7",
			"client_user_agent": "Mozilla/5.0",
			"click_id":          "dj0yJnU9",
		},
		"custom_data": map[string]any{"currency": "USD", "value": "142.52"},
	}
}

// pinterestReport is events[] with its counts, as a client reads it.
type pinterestReport struct {
	Code               int               `json:"code"`
	Message            string            `json:"message"`
	NumEventsReceived  int               `json:"num_events_received"`
	NumEventsProcessed int               `json:"num_events_processed"`
	Events             []pinterestStatus `json:"events"`
	Details            *pinterestReport  `json:"details"`
}

func postPinterest(t *testing.T, url, query, token string, body any) (int, pinterestReport) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v5/ad_accounts/"+pinterestTestAccount+"/events"+query, bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp := do(t, http.DefaultClient, req)
	var rep pinterestReport
	if err := json.Unmarshal(resp.body, &rep); err != nil {
		t.Fatalf("answer %s: %v", resp.body, err)
	}
	return resp.status, rep
}

func TestPinterestAcceptsAndRecords(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{PinterestTokens: map[string]string{pinterestTestAccount: "tok"}})
	status, rep := postPinterest(t, ts.URL, "", "tok", map[string]any{"data": []any{pinterestEvent(testNow, "a"), pinterestEvent(testNow, "b")}})
	if status != 200 || rep.NumEventsReceived != 2 || rep.NumEventsProcessed != 2 || len(rep.Events) != 2 || rep.Events[1].Status != "processed" {
		t.Fatalf("status %d report %+v", status, rep)
	}
	evs := s.Pinterest().Events()
	if len(evs) != 2 || evs[0].EventID != "a" || evs[0].Account != pinterestTestAccount || evs[0].EventName != "checkout" {
		t.Fatalf("recorded %+v", evs)
	}
	// ?test=true validates and answers the same, but records nothing.
	status, rep = postPinterest(t, ts.URL, "?test=true", "tok", map[string]any{"data": []any{pinterestEvent(testNow, "c")}})
	if status != 200 || rep.NumEventsProcessed != 1 || len(s.Pinterest().Events()) != 2 {
		t.Fatalf("test mode: status %d report %+v, %d recorded", status, rep, len(s.Pinterest().Events()))
	}
}

func TestPinterestRejectsRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		body       any
		wantStatus int
		wantMsg    string
	}{
		{"no token", "", map[string]any{"data": []any{pinterestEvent(testNow, "a")}}, 401, "Authentication failed"},
		{"wrong token", "nope", map[string]any{"data": []any{pinterestEvent(testNow, "a")}}, 401, "Authentication failed"},
		{"no data", "tok", map[string]any{}, 400, "1 to 1000"},
		{"too many events", "tok", map[string]any{"data": func() []any {
			evs := make([]any, 1001)
			for i := range evs {
				evs[i] = pinterestEvent(testNow, "x")
			}
			return evs
		}()}, 400, "1 to 1000"},
		{"not an object", "tok", []any{1}, 400, "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{PinterestTokens: map[string]string{pinterestTestAccount: "tok"}})
			status, rep := postPinterest(t, ts.URL, "", tt.token, tt.body)
			if status != tt.wantStatus || rep.Code == 0 || !strings.Contains(rep.Message, tt.wantMsg) {
				t.Fatalf("status %d %+v; want %d with %q", status, rep, tt.wantStatus, tt.wantMsg)
			}
			if n := len(s.Pinterest().Events()); n != 0 {
				t.Errorf("%d events recorded", n)
			}
		})
	}
}

// TestPinterestPartialFailure: an invalid event gets HTTP 422, code 953,
// with every event's status in request order; valid ones are recorded.
func TestPinterestPartialFailure(t *testing.T) {
	t.Parallel()
	ud := func(ev map[string]any) map[string]any { return ev["user_data"].(map[string]any) }
	tests := []struct {
		name    string
		mutate  func(ev map[string]any)
		wantMsg string
	}{
		{"unhashed email", func(ev map[string]any) { ud(ev)["em"] = []string{"john@example.com"} }, "user_data.em"},
		{"email not a list", func(ev map[string]any) { ud(ev)["em"] = sha("a") }, "user_data.em"},
		{"phone with plus hashed is still a hash", func(ev map[string]any) { ud(ev)["ph"] = []string{"+16505551212"} }, "user_data.ph"},
		{"hashed ip", func(ev map[string]any) { ud(ev)["client_ip_address"] = sha("1.2.3.4") }, "must not be hashed"},
		{"no em and no ip", func(ev map[string]any) {
			delete(ud(ev), "em")
			delete(ud(ev), "client_ip_address")
		}, "requires em"},
		{"missing event_id", func(ev map[string]any) { delete(ev, "event_id") }, "event_id"},
		{"unknown event name", func(ev map[string]any) { ev["event_name"] = "purchase" }, "event_name"},
		{"unknown action source", func(ev map[string]any) { ev["action_source"] = "website" }, "action_source"},
		{"too old", func(ev map[string]any) { ev["event_time"] = testNow.Add(-8 * 24 * time.Hour).Unix() }, "Given timestamp is in the past"},
		{"milliseconds", func(ev map[string]any) { ev["event_time"] = testNow.UnixMilli() }, "in the future"},
		{"opt_out as string", func(ev map[string]any) { ev["opt_out"] = "true" }, "opt_out"},
		{"value as number", func(ev map[string]any) { ev["custom_data"] = map[string]any{"value": 142.52} }, "custom_data.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			bad := pinterestEvent(testNow, "bad")
			tt.mutate(bad)
			status, rep := postPinterest(t, ts.URL, "", "any", map[string]any{"data": []any{pinterestEvent(testNow, "good"), bad}})
			if status != 422 || rep.Code != 953 || rep.Details == nil || len(rep.Details.Events) != 2 {
				t.Fatalf("status %d %+v; want 422 code 953 with two statuses", status, rep)
			}
			d := rep.Details
			if d.Events[0].Status != "processed" || d.Events[1].Status != "failed" || !strings.Contains(d.Events[1].ErrorMessage, tt.wantMsg) || d.NumEventsProcessed != 1 {
				t.Errorf("details %+v, want the second failed with %q", d, tt.wantMsg)
			}
			if evs := s.Pinterest().Events(); len(evs) != 1 || evs[0].EventID != "good" {
				t.Errorf("recorded %+v", evs)
			}
		})
	}
}
