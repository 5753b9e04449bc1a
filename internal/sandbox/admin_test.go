package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// admin sends an admin request with the given bearer token ("" for none).
func admin(t *testing.T, ts *httptest.Server, method, path, token, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, ts.Client(), req)
}

func decodeJSON[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return v
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	_, ts := startSandbox(t, Options{AdminToken: "admin-secret"})
	endpoints := []struct{ method, path, body string }{
		{"GET", "/_sandbox/health", ""},
		{"GET", "/_sandbox/meta/stats", ""},
		{"GET", "/_sandbox/meta/events", ""},
		{"GET", "/_sandbox/faults", ""},
		{"POST", "/_sandbox/faults", `{"platform":"meta","status":503}`},
		{"DELETE", "/_sandbox/faults", ""},
		{"POST", "/_sandbox/meta/reset", ""},
	}
	for _, ep := range endpoints {
		for _, tok := range []string{"", "wrong"} {
			if r := admin(t, ts, ep.method, ep.path, tok, ep.body); r.status != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: status %d; want 401", ep.method, ep.path, tok, r.status)
			}
		}
		if r := admin(t, ts, ep.method, ep.path, "admin-secret", ep.body); r.status != http.StatusOK {
			t.Errorf("%s %s with the token: status %d, body %s; want 200", ep.method, ep.path, r.status, r.body)
		}
	}
	// The platform API is guarded by its own token, not the admin token.
	postEvents(t, ts, testToken, validEvents(testNow, "x", 1)).success(t)
}

func TestAdminHealthAndStats(t *testing.T) {
	t.Parallel()
	_, ts := startSandbox(t, Options{})
	health := decodeJSON[struct {
		Status    string   `json:"status"`
		Platforms []string `json:"platforms"`
	}](t, admin(t, ts, "GET", "/_sandbox/health", "", ""))
	if health.Status != "ok" || !slices.Contains(health.Platforms, "meta") || !slices.Contains(health.Platforms, "webhook") {
		t.Errorf("health %+v; want ok with platforms meta and webhook", health)
	}

	postEvents(t, ts, testToken, validEvents(testNow, "s", 3)).success(t)
	postEvents(t, ts, testToken, validEvents(testNow, "s", 1)).success(t)
	postEvents(t, ts, "", validEvents(testNow, "s", 1))
	stats := decodeJSON[MetaStats](t, admin(t, ts, "GET", "/_sandbox/meta/stats", "", ""))
	if want := (MetaStats{Requests: 3, Accepted: 4, Rejected: 1, Duplicates: 1}); stats != want {
		t.Errorf("stats %+v; want %+v", stats, want)
	}

	if r := admin(t, ts, "GET", "/_sandbox/friendster/stats", "", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown platform: status %d; want 404", r.status)
	}
}

func TestAdminEvents(t *testing.T) {
	t.Parallel()
	_, ts := startSandbox(t, Options{})
	postEvents(t, ts, testToken, validEvents(testNow, "a", 5)).success(t)
	postEvents(t, ts, testToken, validEvents(testNow, "a", 2)).success(t) // a-0, a-1 again

	type page struct {
		Count  int         `json:"count"`
		Events []MetaEvent `json:"events"`
	}
	tests := []struct {
		name    string
		query   string
		wantIDs []string
	}{
		{"default", "", []string{"a-0", "a-1", "a-2", "a-3", "a-4", "a-0", "a-1"}},
		{"limit keeps the latest", "?limit=3", []string{"a-4", "a-0", "a-1"}},
		{"by event_id", "?event_id=a-1", []string{"a-1", "a-1"}},
		{"by event_id and limit", "?event_id=a-0&limit=1", []string{"a-0"}},
		{"unknown event_id", "?event_id=zzz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := decodeJSON[page](t, admin(t, ts, "GET", "/_sandbox/meta/events"+tt.query, "", ""))
			var ids []string
			for _, ev := range p.Events {
				ids = append(ids, ev.EventID)
				if ev.Pixel != testPixel || ev.UserData["ph"] != sha("16505551212") {
					t.Errorf("event %+v lacks the sent pixel or user_data", ev)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") || p.Count != len(tt.wantIDs) {
				t.Errorf("count %d, ids %v; want %v", p.Count, ids, tt.wantIDs)
			}
		})
	}

	t.Run("bad limit", func(t *testing.T) {
		t.Parallel()
		r := admin(t, ts, "GET", "/_sandbox/meta/events?limit=-1", "", "")
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "limit") {
			t.Errorf("status %d body %s; want 400 naming limit", r.status, r.body)
		}
	})
}

func TestAdminFaults(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, ts := startSandbox(t, Options{Clock: clock.Now})
	events := validEvents(testNow, "f", 1)

	set := admin(t, ts, "POST", "/_sandbox/faults", "",
		`{"platform":"meta","status":503,"retry_after":"5s","error_rate":1,"meta_code":2,"requests":10,"for":"30s"}`)
	if set.status != http.StatusOK {
		t.Fatalf("setting a fault: status %d, body %s", set.status, set.body)
	}
	resp := postEvents(t, ts, testToken, events)
	if resp.status != 503 || resp.header.Get("Retry-After") != "5" || resp.graphErr(t).Code != 2 {
		t.Fatalf("with the fault: status %d, Retry-After %q, body %s; want 503, 5, code 2",
			resp.status, resp.header.Get("Retry-After"), resp.body)
	}

	list := decodeJSON[struct{ Faults []faultView }](t, admin(t, ts, "GET", "/_sandbox/faults", "", ""))
	if len(list.Faults) != 1 || list.Faults[0].Status != 503 || list.Faults[0].Remaining != 9 ||
		list.Faults[0].Until == nil || !list.Faults[0].Until.Equal(testNow.Add(30*time.Second)) {
		t.Errorf("faults %+v; want meta 503 with 9 requests left until now+30s", list.Faults)
	}

	clock.Advance(30 * time.Second) // "for" runs on the sandbox clock
	postEvents(t, ts, testToken, events).success(t)

	admin(t, ts, "POST", "/_sandbox/faults", "", `{"platform":"meta","status":"429","latency":0}`)
	if got := postEvents(t, ts, testToken, events).status; got != 429 {
		t.Errorf("status %d; want 429 (a string status is accepted)", got)
	}
	if r := admin(t, ts, "DELETE", "/_sandbox/faults?platform=meta", "", ""); r.status != 200 {
		t.Errorf("clearing meta: status %d", r.status)
	}
	postEvents(t, ts, testToken, events).success(t)

	s.SetFault("meta", Fault{Status: 500})
	admin(t, ts, "DELETE", "/_sandbox/faults", "", "")
	postEvents(t, ts, testToken, events).success(t)
}

func TestAdminFaultErrors(t *testing.T) {
	t.Parallel()
	_, ts := startSandbox(t, Options{})
	tests := []struct {
		name, body, wantInError string
	}{
		{"not JSON", `status=503`, "JSON object"},
		{"no platform", `{"status":503}`, `"platform" is required`},
		{"unknown platform", `{"platform":"friendster","status":503}`, `unknown platform "friendster"`},
		{"unknown key", `{"platform":"meta","stauts":503}`, `unknown key "stauts"`},
		{"bad duration", `{"platform":"meta","status":503,"latency":"soon"}`, `key "latency"`},
		{"rate above 1", `{"platform":"meta","status":503,"error_rate":1.5}`, `key "error_rate"`},
		{"status not an error", `{"platform":"meta","status":200}`, "4xx or 5xx"},
		{"nothing to inject", `{"platform":"meta","requests":3}`, "needs a status or a latency"},
		{"object value", `{"platform":"meta","status":{"code":503}}`, `key "status": want a string or a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := admin(t, ts, "POST", "/_sandbox/faults", "", tt.body)
			msg := decodeJSON[map[string]string](t, r)["error"]
			if r.status != http.StatusBadRequest || !strings.Contains(msg, tt.wantInError) {
				t.Errorf("status %d, error %q; want 400 saying %q", r.status, msg, tt.wantInError)
			}
		})
	}
}

func TestAdminReset(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	postEvents(t, ts, testToken, validEvents(testNow, "r", 2)).success(t)
	if r := admin(t, ts, "POST", "/_sandbox/meta/reset", "", ""); r.status != 200 {
		t.Fatalf("reset: status %d", r.status)
	}
	if st := s.Meta().Stats(); st != (MetaStats{}) || len(s.Meta().Events()) != 0 {
		t.Errorf("after reset: %+v, %d events; want nothing", st, len(s.Meta().Events()))
	}
}
