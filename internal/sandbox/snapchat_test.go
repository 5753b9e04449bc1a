package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const snapchatTestPixel = "1ec32188-754e-4be2-8e55-c949a984a39f"

func snapchatEvent(now time.Time, id string) map[string]any {
	return map[string]any{
		"event_name":       "PURCHASE",
		"event_time":       now.Add(-time.Minute).Unix(),
		"event_id":         id,
		"action_source":    "WEB",
		"event_source_url": "https://shop.example/thanks",
		"user_data": map[string]any{
			"em":                []string{sha("john_smith@gmail.com")},
			"ph":                []string{sha("448444124653")},
			"client_ip_address": "203.0.113.7",
			"client_user_agent": "Mozilla/5.0",
		},
		"custom_data": map[string]any{"currency": "USD", "value": 142.52},
	}
}

// snapchatAnswer is Snap's envelope as a client reads it.
type snapchatAnswer struct {
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	RequestID string `json:"request_id"`
}

func postSnapchat(t *testing.T, url, path, token string, body any) (int, snapchatAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v3/"+snapchatTestPixel+"/events"+path, bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp := do(t, http.DefaultClient, req)
	var a snapchatAnswer
	if err := json.Unmarshal(resp.body, &a); err != nil || a.Status == "" || a.RequestID == "" {
		t.Fatalf("answer %s is not Snap's envelope (err %v)", resp.body, err)
	}
	return resp.status, a
}

func TestSnapchatAcceptsAndRecords(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{SnapchatTokens: map[string]string{snapchatTestPixel: "tok"}})
	status, a := postSnapchat(t, ts.URL, "", "tok", map[string]any{"data": []any{snapchatEvent(testNow, "a"), snapchatEvent(testNow, "b")}})
	if status != 200 || a.Status != "SUCCESS" {
		t.Fatalf("status %d %+v", status, a)
	}
	evs := s.Snapchat().Events()
	if len(evs) != 2 || evs[0].EventID != "a" || evs[1].Account != snapchatTestPixel || evs[0].EventName != "PURCHASE" {
		t.Fatalf("recorded %+v", evs)
	}
	// The token may also come as the access_token query parameter.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v3/"+snapchatTestPixel+"/events?access_token=tok",
		bytes.NewReader(mustJSON(map[string]any{"data": []any{snapchatEvent(testNow, "c")}})))
	if resp := do(t, http.DefaultClient, req); resp.status != 200 {
		t.Fatalf("query token: status %d %s", resp.status, resp.body)
	}
	// The validate endpoint checks and records nothing.
	status, a = postSnapchat(t, ts.URL, "/validate", "tok", map[string]any{"data": []any{snapchatEvent(testNow, "d")}})
	if status != 200 || a.Status != "SUCCESS" || len(s.Snapchat().Events()) != 3 {
		t.Fatalf("validate: status %d %+v, %d recorded", status, a, len(s.Snapchat().Events()))
	}
}

// TestSnapchatRejects covers the validate endpoint's documented INVALID
// cases and the request-level rules; a refused request records nothing.
func TestSnapchatRejects(t *testing.T) {
	t.Parallel()
	ud := func(ev map[string]any) map[string]any { return ev["user_data"].(map[string]any) }
	tests := []struct {
		name       string
		token      string
		mutate     func(ev map[string]any)
		body       any
		wantStatus int
		wantMsg    string
	}{
		{"no token", "", nil, nil, 401, "access token is required"},
		{"wrong token", "nope", nil, nil, 401, "not valid"},
		{"too many events", "tok", nil, map[string]any{"data": func() []any {
			evs := make([]any, 2001)
			for i := range evs {
				evs[i] = snapchatEvent(testNow, "x")
			}
			return evs
		}()}, 400, "1 to 2000"},
		{"missing event_name", "tok", func(ev map[string]any) { delete(ev, "event_name") }, nil, 400, "data[1].event_name: required"},
		{"missing action_source", "tok", func(ev map[string]any) { delete(ev, "action_source") }, nil, 400, "data[1].action_source"},
		{"web without url", "tok", func(ev map[string]any) { delete(ev, "event_source_url") }, nil, 400, "data[1].event_source_url"},
		{"purchase without currency", "tok", func(ev map[string]any) { ev["custom_data"] = map[string]any{"value": 1} }, nil, 400, "need value (price) and currency"},
		{"unhashed email", "tok", func(ev map[string]any) { ud(ev)["em"] = []string{"john@example.com"} }, nil, 400, "user_data.em: unhashed PII"},
		{"phone with plus unhashed", "tok", func(ev map[string]any) { ud(ev)["ph"] = "+448444124653" }, nil, 400, "user_data.ph"},
		{"hashed cookie", "tok", func(ev map[string]any) { ud(ev)["sc_cookie1"] = sha("c") }, nil, 400, "sc_cookie1: must not be hashed"},
		{"bad ip", "tok", func(ev map[string]any) { ud(ev)["client_ip_address"] = "nowhere" }, nil, 400, "client_ip_address"},
		{"insufficient pii", "tok", func(ev map[string]any) { ev["user_data"] = map[string]any{"client_user_agent": "UA"} }, nil, 400, "insufficient PII"},
		{"38 days old", "tok", func(ev map[string]any) { ev["event_time"] = testNow.Add(-38 * 24 * time.Hour).Unix() }, nil, 400, "out of range"},
		{"milliseconds", "tok", func(ev map[string]any) { ev["event_time"] = testNow.UnixMilli() }, nil, 400, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{SnapchatTokens: map[string]string{snapchatTestPixel: "tok"}})
			body := tt.body
			if body == nil {
				evs := []any{snapchatEvent(testNow, "a"), snapchatEvent(testNow, "b")}
				if tt.mutate != nil {
					tt.mutate(evs[1].(map[string]any))
				}
				body = map[string]any{"data": evs}
			}
			status, a := postSnapchat(t, ts.URL, "", tt.token, body)
			if status != tt.wantStatus || (status == 400 && a.Status != "INVALID") || !strings.Contains(a.Reason, tt.wantMsg) {
				t.Fatalf("status %d %+v; want %d with %q", status, a, tt.wantStatus, tt.wantMsg)
			}
			if n := len(s.Snapchat().Events()); n != 0 {
				t.Errorf("%d events recorded from a refused request", n)
			}
		})
	}
}
