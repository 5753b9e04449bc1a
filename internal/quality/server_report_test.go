package quality

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

func newTestMonitor(t *testing.T, clk *fakeClock) *Monitor {
	t.Helper()
	m := NewMonitor(Config{}, MonitorOptions{Clock: clk.Now})
	m.Breakers = func() map[string]string { return map[string]string{"meta": "closed", "hook": "open"} }
	at := clk.Now().Add(-30 * time.Minute)
	for _, o := range []event.Outcome{
		{Record: "web/0/1", EventID: "p1", EventName: "purchase", Source: "web", Status: event.StatusRouted, Destinations: []string{"meta", "hook"}, At: at},
		{Record: "web/0/1", EventID: "p1", EventName: "purchase", Source: "web", Destination: "meta", Status: event.StatusDelivered, PlatformRef: "fbtrace-1", MatchKeys: []string{"em"}, EventTime: at.Add(-time.Minute), At: at},
		{Record: "web/0/1", EventID: "p1", EventName: "purchase", Source: "web", Destination: "hook", Status: event.StatusRejected, Reason: "bad_signature", At: at},
		{Record: "app/0/2", EventID: "l1", EventName: "lead", Source: "app", Status: event.StatusRouted, Destinations: []string{"meta"}, At: at},
		{Record: "app/0/2", EventID: "l1", EventName: "lead", Source: "app", Destination: "meta", Status: event.StatusDelivered, At: at},
		{Record: "crm/0/3", Source: "crm", Status: event.StatusInvalid, Reason: "schema_violation", At: at},
	} {
		m.Add(o)
	}
	return m
}

func TestReportEndpoints(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0}
	m := newTestMonitor(t, clk)
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("signalpipe_up 1\n")) })
	srv := httptest.NewServer((&Server{Token: "tok", Monitor: m, Clock: clk.Now, Metrics: metrics, Status: func() Status { return Status{} }}).Handler())
	t.Cleanup(srv.Close)
	get := func(t *testing.T, path, token string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	tests := []struct {
		name, path, token string
		wantCode          int
		wantType          string
		check             func(t *testing.T, body string)
	}{
		{"report needs the token", "/api/v1/report", "", 401, "", nil},
		{"csv needs the token", "/api/v1/report.csv", "", 401, "", nil},
		{"trace needs the token", "/api/v1/events/p1", "", 401, "", nil},
		{"report page needs the token", "/report", "", 401, "", nil},
		{"report page with token in query", "/report?token=tok", "", 200, "text/html", func(t *testing.T, body string) {
			if !strings.Contains(body, "<svg") && !strings.Contains(body, "svg") {
				t.Error("report page draws no SVG")
			}
		}},
		{"report JSON", "/api/v1/report?since=1h", "tok", 200, "application/json", func(t *testing.T, body string) {
			var r Report
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			if r.Totals.Received != 3 || r.Totals.Invalid != 1 || r.Totals.Delivered != 2 || r.Totals.Rejected != 1 {
				t.Errorf("totals = %+v", r.Totals)
			}
			health := map[string]HealthLevel{}
			for _, d := range r.Destinations {
				health[d.Name] = d.Health.Level
			}
			if health["hook"] != Red || health["meta"] != Green {
				t.Errorf("health = %v, want hook red (breaker open), meta green", health)
			}
		}},
		{"report JSON filtered by destination and event", "/api/v1/report?since=1h&destination=meta&event_name=lead", "tok", 200, "application/json", func(t *testing.T, body string) {
			var r Report
			_ = json.Unmarshal([]byte(body), &r)
			if r.Totals.Routed != 1 || r.Totals.Delivered != 1 || len(r.Destinations) != 1 {
				t.Errorf("filtered totals = %+v", r.Totals)
			}
		}},
		{"report before hour retention reads days", "/api/v1/report?since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z", "tok", 200, "application/json", func(t *testing.T, body string) {
			var r Report
			_ = json.Unmarshal([]byte(body), &r)
			if r.Totals.Received != 0 || r.Resolution != Day {
				t.Errorf("received %d at %s", r.Totals.Received, r.Resolution)
			}
		}},
		{"bad since", "/api/v1/report?since=yesterday", "tok", 400, "", nil},
		{"since in days", "/api/v1/report?since=7d", "tok", 200, "application/json", func(t *testing.T, body string) {
			var r Report
			_ = json.Unmarshal([]byte(body), &r)
			if !r.Since.Equal(t0.AddDate(0, 0, -7)) || r.Totals.Received != 3 {
				t.Errorf("since %v, received %d", r.Since, r.Totals.Received)
			}
		}},
		{"since after until", "/api/v1/report?since=1h&until=2h", "tok", 400, "", nil},
		{"bad resolution", "/api/v1/report?resolution=second", "tok", 400, "", nil},
		{"CSV", "/api/v1/report.csv?since=1h", "tok", 200, "text/csv", func(t *testing.T, body string) {
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) < 2 || rows[0][0] != "scope" || rows[1][0] != "total" || rows[1][2] != "3" {
				t.Errorf("csv starts %q", rows[:min(len(rows), 2)])
			}
			for _, r := range rows {
				if len(r) != len(csvHeader) {
					t.Errorf("row %q has %d columns, want %d", r, len(r), len(csvHeader))
				}
			}
		}},
		{"trace of an event", "/api/v1/events/p1", "tok", 200, "application/json", func(t *testing.T, body string) {
			var tr Trace
			_ = json.Unmarshal([]byte(body), &tr)
			if len(tr.Steps) != 3 || len(tr.Destinations) != 2 || tr.EventName != "purchase" {
				t.Fatalf("trace = %+v", tr)
			}
			if !strings.Contains(tr.Summary, "meta: delivered") || !strings.Contains(tr.Summary, "fbtrace-1") || !strings.Contains(tr.Summary, "hook: rejected (bad_signature)") {
				t.Errorf("summary = %q", tr.Summary)
			}
		}},
		{"trace of an unknown event", "/api/v1/events/nope", "tok", 404, "application/json", nil},
		{"alerts list", "/api/v1/alerts", "tok", 200, "application/json", func(t *testing.T, body string) {
			if strings.TrimSpace(body) != "[]" {
				t.Errorf("alerts = %s", body)
			}
		}},
		{"healthz open", "/healthz", "", 200, "text/plain", nil},
		{"metrics need the token", "/metrics", "", 401, "", nil},
		{"metrics with the token", "/metrics", "tok", 200, "", func(t *testing.T, body string) {
			if body != "signalpipe_up 1\n" {
				t.Errorf("metrics body %q", body)
			}
		}},
		{"alerts need the token", "/api/v1/alerts", "", 401, "", nil},
		{"trace page needs the token", "/trace", "", 401, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, tt.path, tt.token)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("%s: %d %s, want %d", tt.path, resp.StatusCode, body, tt.wantCode)
			}
			if tt.wantType != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) {
				t.Errorf("content type %q, want %q", resp.Header.Get("Content-Type"), tt.wantType)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func TestTracesBounded(t *testing.T) {
	t.Parallel()
	tr := NewTraces(3)
	for _, id := range []string{"a", "b", "c", "a", "d"} {
		tr.Add(event.Outcome{Record: "r", EventID: id, Status: event.StatusRouted, At: t0})
	}
	tests := []struct {
		id   string
		want bool
	}{{"a", true}, {"b", false}, {"c", true}, {"d", true}}
	for _, tt := range tests {
		if _, ok := tr.Get(tt.id); ok != tt.want {
			t.Errorf("Get(%q) found=%v, want %v (b is least recently seen)", tt.id, ok, tt.want)
		}
	}
	for range 100 {
		tr.Add(event.Outcome{Record: "r", EventID: "a", Status: event.StatusRouted, At: t0})
	}
	if got, _ := tr.Get("a"); len(got.Steps) != maxTraceSteps {
		t.Errorf("a keeps %d steps, want %d", len(got.Steps), maxTraceSteps)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ready    error
		dests    map[string]string
		wantCode int
		want     []string
	}{
		{"broker up, breakers closed", nil, map[string]string{"meta": "closed"}, 200, []string{"ready", "destination meta: breaker closed"}},
		{"a breaker open is degraded, not unready", nil, map[string]string{"meta": "open", "hook": "closed"}, 200, []string{"destination meta: breaker open (degraded", "destination hook: breaker closed"}},
		{"broker down", errors.New("kafka unreachable: dial tcp"), nil, 503, []string{"not ready: kafka unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &Server{Token: "tok", Ready: func() error { return tt.ready }, Destinations: func() map[string]string { return tt.dests }}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if w.Code != tt.wantCode {
				t.Errorf("code %d, want %d", w.Code, tt.wantCode)
			}
			for _, want := range tt.want {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("body %q lacks %q", w.Body.String(), want)
				}
			}
		})
	}
}
