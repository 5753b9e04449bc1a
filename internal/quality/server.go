package quality

import (
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

//go:embed web/status.html
var statusPage []byte

//go:embed web/report.html
var reportPage []byte

//go:embed web/trace.html
var tracePage []byte

// Status is what the status page and /api/v1/status show.
type Status struct {
	Now     time.Time `json:"now"`
	Started time.Time `json:"started"`
	// Inputs is the number of input records known (the demo's generator
	// count); zero when unknown.
	Inputs int64    `json:"inputs"`
	Ledger Snapshot `json:"ledger"`
	// Extra carries component figures, such as the sandbox's.
	Extra map[string]any `json:"extra,omitempty"`
}

// Server serves the status page, its JSON, and health endpoints.
type Server struct {
	// Status returns the current figures.
	Status func() Status
	// Token, when set, is required as a bearer token on the page and API.
	Token string
	// Ready reports whether the pipeline is ready; nil means ready.
	Ready func() error
	// Monitor, when set, serves the report, trace and alert endpoints and
	// pages.
	Monitor *Monitor
	// Metrics, when set, is served on /metrics (behind the token).
	Metrics http.Handler
	// Clock reads "now" for relative since/until; nil is time.Now.
	Clock func() time.Time
	// Destinations, when set, returns each destination's breaker state for
	// /readyz. An open breaker does not make the process unready (the
	// pages matter most during an outage, and the backlog waits in Kafka
	// whatever the probe says); /readyz lists it as degraded.
	Destinations func() map[string]string
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if s.Ready != nil {
			if err := s.Ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ready\n"))
		if s.Destinations != nil {
			states := s.Destinations()
			names := slices.Sorted(maps.Keys(states))
			for _, d := range names {
				note := ""
				if states[d] != "closed" {
					note = " (degraded: the backlog waits in Kafka)"
				}
				fmt.Fprintf(w, "destination %s: breaker %s%s\n", d, states[d], note)
			}
		}
	})
	mux.Handle("GET /api/v1/status", s.auth(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s.Status())
	})))
	mux.Handle("GET /{$}", s.auth(page(statusPage)))
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.auth(s.Metrics))
	}
	if s.Monitor != nil {
		s.reportRoutes(mux)
	}
	return mux
}

// page serves an embedded HTML page; everything it needs is inline.
func page(b []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")
		_, _ = w.Write(b)
	})
}

// auth requires the bearer token when one is configured. The page also
// accepts it as ?token= so a browser can open it; the page passes it on.
func (s *Server) auth(h http.Handler) http.Handler {
	if s.Token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if got == "" {
			got = r.URL.Query().Get("token")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="signalpipe"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
