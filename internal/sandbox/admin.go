package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Admin API defaults.
const (
	defaultAdminEventLimit = 100
	maxAdminEventLimit     = 100_000
	maxAdminBody           = 64 << 10
)

// registerAdmin mounts the /_sandbox/* API, with which a CLI user or another
// process inspects the recordings and injects faults.
func (s *Server) registerAdmin(mux *http.ServeMux) {
	mux.Handle("GET /_sandbox/health", s.admin(s.serveHealth))
	mux.Handle("GET /_sandbox/faults", s.admin(s.serveFaults))
	mux.Handle("POST /_sandbox/faults", s.admin(s.serveSetFault))
	mux.Handle("DELETE /_sandbox/faults", s.admin(s.serveClearFaults))
	mux.Handle("GET /_sandbox/{platform}/stats", s.admin(s.servePlatform(func(p platform, _ *http.Request) (any, error) {
		return p.stats(), nil
	})))
	mux.Handle("GET /_sandbox/{platform}/events", s.admin(s.servePlatform(func(p platform, r *http.Request) (any, error) {
		limit := defaultAdminEventLimit
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxAdminEventLimit {
				return nil, fmt.Errorf("limit %q: want a whole number from 1 to %d", v, maxAdminEventLimit)
			}
			limit = n
		}
		return p.events(limit, r.URL.Query().Get("event_id")), nil
	})))
	mux.Handle("POST /_sandbox/{platform}/reset", s.admin(s.servePlatform(func(p platform, _ *http.Request) (any, error) {
		p.reset()
		s.logger.Info("sandbox recorder reset", "platform", p.name())
		return map[string]string{"status": "reset"}, nil
	})))
}

// admin requires the admin token, when one is configured.
func (s *Server) admin(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.adminToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.adminToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="sandbox admin"`)
				writeJSON(w, http.StatusUnauthorized, adminError("admin token required: send Authorization: Bearer <token>"))
				return
			}
		}
		next(w, r)
	})
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "platforms": s.platformNames()})
}

// servePlatform resolves {platform} and answers with what do returns.
func (s *Server) servePlatform(do func(platform, *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		slot, ok := s.platforms[r.PathValue("platform")]
		if !ok {
			writeJSON(w, http.StatusNotFound, adminError(fmt.Sprintf("unknown platform %q", r.PathValue("platform"))))
			return
		}
		v, err := do(slot.api, r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, adminError(err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// faultView is a fault in force as the admin API shows it.
type faultView struct {
	Platform   string     `json:"platform"`
	Status     int        `json:"status,omitempty"`
	RetryAfter string     `json:"retry_after,omitempty"`
	Latency    string     `json:"latency,omitempty"`
	ErrorRate  float64    `json:"error_rate,omitempty"`
	MetaCode   int        `json:"meta_code,omitempty"`
	Requests   int        `json:"requests,omitempty"`
	Remaining  int        `json:"remaining,omitempty"`
	Until      *time.Time `json:"until,omitempty"`
}

func viewFault(platform string, st *faultState) faultView {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.fault
	v := faultView{Platform: platform, Status: f.Status, ErrorRate: f.ErrorRate, MetaCode: f.MetaCode,
		Requests: f.Requests, Remaining: st.remaining}
	if f.RetryAfter > 0 {
		v.RetryAfter = f.RetryAfter.String()
	}
	if f.Latency > 0 {
		v.Latency = f.Latency.String()
	}
	if !f.Until.IsZero() {
		v.Until = &f.Until
	}
	return v
}

// serveFaults lists the faults in force.
func (s *Server) serveFaults(w http.ResponseWriter, _ *http.Request) {
	views := []faultView{}
	for _, name := range s.platformNames() {
		if st := s.platforms[name].fault.Load(); st != nil {
			views = append(views, viewFault(name, st))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": views})
}

// serveSetFault sets a platform's fault from a JSON object such as
// {"platform":"meta","status":503,"retry_after":"5s","error_rate":0.5,"for":"30s"}.
// Values may be JSON strings or numbers; the keys are ParseFaultFlag's.
func (s *Server) serveSetFault(w http.ResponseWriter, r *http.Request) {
	platform, f, err := decodeFaultJSON(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, adminError(err.Error()))
		return
	}
	s.SetFault(platform, f)
	view := faultView{Platform: platform}
	if st := s.platforms[platform].fault.Load(); st != nil {
		view = viewFault(platform, st)
	}
	writeJSON(w, http.StatusOK, view)
}

func decodeFaultJSON(body io.Reader) (string, Fault, error) {
	var fields map[string]json.RawMessage
	if err := json.NewDecoder(body).Decode(&fields); err != nil {
		return "", Fault{}, fmt.Errorf("decoding fault: want a JSON object: %w", err)
	}
	var platform string
	if err := json.Unmarshal(fields["platform"], &platform); err != nil || platform == "" {
		return "", Fault{}, fmt.Errorf(`decoding fault: "platform" is required (one of %s)`, emulatorNames())
	}
	if !knownPlatform(platform) {
		return "", Fault{}, fmt.Errorf("decoding fault: unknown platform %q (want one of %s)", platform, emulatorNames())
	}
	delete(fields, "platform")
	var f Fault
	for key, raw := range fields {
		raw = bytes.TrimSpace(raw)
		value := string(raw)
		switch {
		case string(raw) == "null":
			continue
		case len(raw) > 0 && raw[0] == '"':
			if err := json.Unmarshal(raw, &value); err != nil {
				return "", Fault{}, fmt.Errorf("decoding fault: key %q: %w", key, err)
			}
		case len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')):
		default:
			return "", Fault{}, fmt.Errorf("decoding fault: key %q: want a string or a number", key)
		}
		if err := setFaultKey(&f, key, value); err != nil {
			return "", Fault{}, fmt.Errorf("decoding fault: %w", err)
		}
	}
	if err := f.validate(); err != nil {
		return "", Fault{}, fmt.Errorf("decoding fault: %w", err)
	}
	return platform, f, nil
}

// serveClearFaults clears the fault of ?platform=, or every fault.
func (s *Server) serveClearFaults(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("platform")
	if name == "" {
		s.ClearFaults()
		writeJSON(w, http.StatusOK, map[string]any{"faults": []faultView{}})
		return
	}
	if _, ok := s.platforms[name]; !ok {
		writeJSON(w, http.StatusNotFound, adminError(fmt.Sprintf("unknown platform %q", name)))
		return
	}
	s.SetFault(name, Fault{})
	s.serveFaults(w, r)
}

func adminError(msg string) map[string]string { return map[string]string{"error": msg} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
