package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func ga4Body(now time.Time) map[string]any {
	return map[string]any{
		"client_id": "123.456",
		"user_id":   "u-1",
		"consent":   map[string]any{"ad_user_data": "GRANTED"},
		"user_data": map[string]any{
			"sha256_email_address": []string{sha("johnsmith@gmail.com")},
			"address":              []any{map[string]any{"sha256_first_name": sha("john"), "city": "menlo park", "country": "US"}},
		},
		"user_properties": map[string]any{"lifetime_value": map[string]any{"value": 1240.5}, "rfm_segment": map[string]any{"value": "R4F3M5"}},
		"events": []any{
			map[string]any{"name": "purchase", "timestamp_micros": now.Add(-time.Hour).UnixMicro(),
				"params": map[string]any{"transaction_id": "o-1", "value": 10.5, "currency": "USD"}},
		},
	}
}

func postGA4(t *testing.T, ts *httptest.Server, path, query string, body any) response {
	t.Helper()
	return postJSON(t, ts, ts.URL+path+"?"+query, body)
}

func TestGA4ValidationMessages(t *testing.T) {
	t.Parallel()
	now := testNow
	ev := func(b map[string]any) map[string]any { return b["events"].([]any)[0].(map[string]any) }
	tests := []struct {
		name   string
		query  string
		mutate func(b map[string]any)
		path   string
		code   string
	}{
		{"no client id", "measurement_id=G-ABC123", func(b map[string]any) { delete(b, "client_id") }, "client_id", "VALUE_REQUIRED"},
		{"app stream needs app instance id", "firebase_app_id=1:2:android:ab", func(b map[string]any) {}, "app_instance_id", "VALUE_REQUIRED"},
		{"26 events", "measurement_id=G-ABC123", func(b map[string]any) {
			evs := make([]any, 26)
			for i := range evs {
				evs[i] = map[string]any{"name": "purchase"}
			}
			b["events"] = evs
		}, "events", "EXCEEDED_MAX_ENTITIES"},
		{"name starting with underscore", "measurement_id=G-ABC123", func(b map[string]any) { ev(b)["name"] = "_bad" }, "events", "NAME_INVALID"},
		{"reserved name", "measurement_id=G-ABC123", func(b map[string]any) { ev(b)["name"] = "session_start" }, "events", "NAME_RESERVED"},
		{"reserved prefix", "measurement_id=G-ABC123", func(b map[string]any) { ev(b)["name"] = "google_lead" }, "events", "NAME_RESERVED"},
		{"name over 40", "measurement_id=G-ABC123", func(b map[string]any) { ev(b)["name"] = strings.Repeat("a", 41) }, "events", "VALUE_OUT_OF_BOUNDS"},
		{"older than 72h", "measurement_id=G-ABC123", func(b map[string]any) { ev(b)["timestamp_micros"] = now.Add(-73 * time.Hour).UnixMicro() }, "events", "VALUE_OUT_OF_BOUNDS"},
		{"value without currency", "measurement_id=G-ABC123", func(b map[string]any) { delete(ev(b)["params"].(map[string]any), "currency") }, "events", "VALUE_REQUIRED"},
		{"unhashed email", "measurement_id=G-ABC123", func(b map[string]any) {
			b["user_data"] = map[string]any{"sha256_email_address": []string{"john@example.com"}}
		}, "user_data", "VALUE_INVALID"},
		{"hashed country", "measurement_id=G-ABC123", func(b map[string]any) {
			b["user_data"] = map[string]any{"address": []any{map[string]any{"country": sha("us")}}}
		}, "user_data.address[0]", "VALUE_INVALID"},
		{"bad consent", "measurement_id=G-ABC123", func(b map[string]any) { b["consent"] = map[string]any{"ad_user_data": "yes"} }, "consent.ad_user_data", "VALUE_INVALID"},
		{"user property name over 24", "measurement_id=G-ABC123", func(b map[string]any) {
			b["user_properties"] = map[string]any{strings.Repeat("a", 25): map[string]any{"value": 1}}
		}, "user_properties", "NAME_INVALID"},
		{"reserved user property", "measurement_id=G-ABC123", func(b map[string]any) {
			b["user_properties"] = map[string]any{"first_open_time": map[string]any{"value": 1}}
		}, "user_properties", "NAME_RESERVED"},
		{"user property value over 36", "measurement_id=G-ABC123", func(b map[string]any) {
			b["user_properties"] = map[string]any{"segment": map[string]any{"value": strings.Repeat("x", 37)}}
		}, "user_properties", "VALUE_OUT_OF_BOUNDS"},
		{"user property without value object", "measurement_id=G-ABC123", func(b map[string]any) {
			b["user_properties"] = map[string]any{"segment": "R1F1M1"}
		}, "user_properties", "VALUE_INVALID"},
		{"user property value neither string nor number", "measurement_id=G-ABC123", func(b map[string]any) {
			b["user_properties"] = map[string]any{"new": map[string]any{"value": true}}
		}, "user_properties", "VALUE_INVALID"},
		{"param value over 100", "measurement_id=G-ABC123", func(b map[string]any) {
			ev(b)["params"].(map[string]any)["note"] = strings.Repeat("x", 101)
		}, "events", "VALUE_OUT_OF_BOUNDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			b := ga4Body(now)
			tt.mutate(b)
			r := postGA4(t, ts, "/debug/mp/collect", tt.query, b)
			var v struct {
				ValidationMessages []ga4Message `json:"validationMessages"`
			}
			if r.status != 200 || json.Unmarshal(r.body, &v) != nil {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			found := false
			for _, m := range v.ValidationMessages {
				found = found || m.FieldPath == tt.path && m.ValidationCode == tt.code
			}
			if !found {
				t.Fatalf("messages %+v, want %s on %s", v.ValidationMessages, tt.code, tt.path)
			}
			if n := len(s.GA4().Events()); n != 0 {
				t.Errorf("the validation server recorded %d events", n)
			}
		})
	}
}

func TestGA4Collect(t *testing.T) {
	t.Parallel()
	now := testNow
	s, ts := startSandbox(t, Options{GA4APISecret: "sec"})
	if r := postGA4(t, ts, "/debug/mp/collect", "measurement_id=G-ABC123", ga4Body(now)); r.status != 200 || !strings.Contains(string(r.body), `"validationMessages":[]`) {
		t.Fatalf("valid request: %d %s", r.status, r.body)
	}
	tests := []struct {
		name       string
		query      string
		body       map[string]any
		wantStatus int
		recorded   int
	}{
		// The validated request above is recorded first, as a test event.
		{"accepted", "measurement_id=G-ABC123&api_secret=sec", ga4Body(now), http.StatusNoContent, 2},
		{"invalid is dropped with 204", "measurement_id=G-ABC123&api_secret=sec", map[string]any{"events": []any{}}, http.StatusNoContent, 2},
		{"wrong secret", "measurement_id=G-ABC123&api_secret=nope", ga4Body(now), http.StatusForbidden, 2},
		{"no stream id", "api_secret=sec", ga4Body(now), http.StatusBadRequest, 2},
	}
	for _, tt := range tests { // sequential: the counts accumulate
		r := postGA4(t, ts, "/mp/collect", tt.query, tt.body)
		if r.status != tt.wantStatus || len(s.GA4().Events()) != tt.recorded {
			t.Fatalf("%s: got %d, %d recorded; want %d, %d", tt.name, r.status, len(s.GA4().Events()), tt.wantStatus, tt.recorded)
		}
	}
	e := s.GA4().Events()[0]
	var raw struct {
		UserID string `json:"user_id"`
	}
	if e.Account != "G-ABC123" || e.EventID != "o-1" || e.EventName != "purchase" || !e.Test || json.Unmarshal(e.Raw, &raw) != nil || raw.UserID != "u-1" {
		t.Errorf("recorded %+v: want the validated request's event, marked test", e)
	}
	if e := s.GA4().Events()[1]; e.Test {
		t.Errorf("the collected event is marked test: %+v", e)
	}
	if st := s.GA4().Stats(); st.Rejected != 3 || st.Accepted != 2 {
		t.Errorf("stats %+v", st)
	}
}
