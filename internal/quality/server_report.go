package quality

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// reportRoutes adds the report, trace and alert endpoints and pages.
func (s *Server) reportRoutes(mux *http.ServeMux) {
	mux.Handle("GET /report", s.auth(page(reportPage)))
	mux.Handle("GET /trace", s.auth(page(tracePage)))
	mux.Handle("GET /api/v1/report", s.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseQuery(r.URL.Query(), s.now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, s.Monitor.Report(q))
	})))
	mux.Handle("GET /api/v1/report.csv", s.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseQuery(r.URL.Query(), s.now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="signalpipe-report.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		_ = WriteCSV(w, s.Monitor.Report(q))
	})))
	mux.Handle("GET /api/v1/events/{event_id}", s.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, ok := s.Monitor.Traces.Get(r.PathValue("event_id"))
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": "event id not in the trace index", "indexed_events": s.Monitor.Traces.Len(),
				"note": "the index keeps the most recently seen events only (quality.trace_events)"})
			return
		}
		writeJSON(w, tr)
	})))
	mux.Handle("GET /api/v1/alerts", s.auth(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a := s.Monitor.Alerter.Alerts()
		if a == nil {
			a = []Alert{}
		}
		writeJSON(w, a)
	})))
}

func (s *Server) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// ParseQuery reads since, until (RFC 3339 times, or durations meaning that
// long before now: 90m, 24h, 7d), destination, event_name, source and resolution.
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	q := Query{Destination: v.Get("destination"), EventName: v.Get("event_name"), Source: v.Get("source")}
	var err error
	if q.Until, err = parseWhen("until", v.Get("until"), now, now); err != nil {
		return q, err
	}
	if q.Since, err = parseWhen("since", v.Get("since"), now, q.Until.Add(-24*time.Hour)); err != nil {
		return q, err
	}
	if !q.Since.Before(q.Until) {
		return q, fmt.Errorf("since (%s) must be before until (%s)", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	}
	if r := Resolution(v.Get("resolution")); r != "" && r != "auto" {
		if !slices.Contains(Resolutions, r) {
			return q, fmt.Errorf("resolution must be minute, hour, day or auto, not %q", r)
		}
		if q.Until.Sub(q.Since)/r.Width() > 5000 {
			return q, fmt.Errorf("resolution %s gives more than 5000 points for this span", r)
		}
		q.Resolution = r
	}
	return q, nil
}

func parseWhen(name, s string, now, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && strings.HasSuffix(s, "d") && n >= 0 {
		return now.AddDate(0, 0, -n), nil // 7d, 30d: what people type
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time or a duration such as 24h or 7d, not %q", name, s)
}
