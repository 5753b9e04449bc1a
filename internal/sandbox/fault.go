package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fault describes how a platform should misbehave. A fault with neither
// Status nor Latency does nothing; setting one clears the platform's fault.
type Fault struct {
	// Status is the HTTP status to answer instead of processing the request,
	// normally a 4xx or 5xx (500, 503, 429). 0 means the request is processed.
	Status int
	// RetryAfter, when > 0, is sent as a Retry-After header in whole seconds
	// (rounded up) with the Status answer.
	RetryAfter time.Duration
	// Latency delays the answer (the injected error, or the normal processing
	// when Status is 0). The delay ends early if the client goes away.
	Latency time.Duration
	// ErrorRate is the share, 0..1, of requests that get the fault; 0 means
	// all of them. Draws come from a pseudo-random source seeded afresh by
	// every SetFault, so a test sees the same sequence on every run.
	ErrorRate float64
	// MetaCode is the Graph error code put in Meta's error body with Status,
	// e.g. 613 (throttling), 2 (service), 190 (token). 0 picks one from Status:
	// 429→613, 500→1, other 5xx→2, 401→190, 403→10, other 4xx→100.
	MetaCode int
	// Requests limits the fault to the next N requests, each of which still
	// draws against ErrorRate; 0 means until cleared or Until.
	Requests int
	// Until ends the fault at this instant of the sandbox clock; zero means
	// no end.
	Until time.Time
	// For, when > 0, ends the fault this long after SetFault on the sandbox
	// clock (it sets Until, or shortens it). ParseFaultFlag and the admin API
	// fill it from "for=30s".
	For time.Duration
}

// faultSeed seeds each fault's pseudo-random source; any constant will do, it
// only has to be the same on every run.
const faultSeed = 0x5eed_0f_fa017

// maxFaultDrain bounds how much request body a faulted request reads so that
// the connection can be reused and a client that goes away is noticed.
const maxFaultDrain = 8 << 20

// faultState is a fault in force on one platform.
type faultState struct {
	mu        sync.Mutex
	fault     Fault
	remaining int // requests left when fault.Requests > 0
	rng       *rand.Rand
}

// decide reports whether the current request gets the fault (hit) and
// whether the fault has run out and can be removed (spent).
func (st *faultState) decide(now time.Time) (hit, spent bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := &st.fault
	if !f.Until.IsZero() && !now.Before(f.Until) {
		return false, true
	}
	if f.Requests > 0 {
		if st.remaining == 0 {
			return false, true
		}
		st.remaining--
	}
	hit = f.ErrorRate <= 0 || f.ErrorRate >= 1 || st.rng.Float64() < f.ErrorRate
	return hit, f.Requests > 0 && st.remaining == 0
}

// SetFault makes platform ("meta") misbehave as f describes from the next
// request on, replacing its current fault. An unknown platform is logged and
// ignored; a fault with neither Status nor Latency clears the platform's fault.
func (s *Server) SetFault(platform string, f Fault) {
	slot, ok := s.platforms[platform]
	if !ok {
		s.logger.Warn("sandbox fault for unknown platform ignored", "platform", platform)
		return
	}
	if f.Status == 0 && f.Latency <= 0 {
		slot.fault.Store(nil)
		s.logger.Info("sandbox fault cleared", "platform", platform)
		return
	}
	if f.For > 0 {
		if until := s.clock().Add(f.For); f.Until.IsZero() || until.Before(f.Until) {
			f.Until = until
		}
	}
	f.ErrorRate = min(max(f.ErrorRate, 0), 1)
	slot.fault.Store(&faultState{
		fault:     f,
		remaining: f.Requests,
		rng:       rand.New(rand.NewPCG(faultSeed, faultSeed)),
	})
	s.logger.Info("sandbox fault set", "platform", platform, "status", f.Status,
		"latency", f.Latency, "error_rate", f.ErrorRate, "requests", f.Requests, "until", f.Until)
}

// ClearFaults removes every platform's fault.
func (s *Server) ClearFaults() {
	for _, slot := range s.platforms {
		slot.fault.Store(nil)
	}
	s.logger.Info("sandbox faults cleared")
}

// withFaults counts every request to a platform's API and applies the
// platform's fault, if any, before the platform sees the request.
func (s *Server) withFaults(slot *platformSlot, next http.HandlerFunc) http.HandlerFunc {
	counters := slot.api.counters()
	return func(w http.ResponseWriter, r *http.Request) {
		counters.requests.Add(1)
		st := slot.fault.Load()
		if st == nil {
			next(w, r)
			return
		}
		hit, spent := st.decide(s.clock())
		if spent {
			slot.fault.CompareAndSwap(st, nil)
		}
		if !hit {
			next(w, r)
			return
		}
		f := st.fault
		// net/http notices a vanished client only once the request body is
		// consumed, so read it before waiting: keep it when the request is
		// still to be processed, discard it when the fault answers.
		if f.Status == 0 {
			r.Body = bufferBody(r.Body)
		} else {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxFaultDrain))
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				counters.faulted.Add(1)
				s.logger.Debug("sandbox fault latency cut short by client", "platform", slot.api.name())
				return
			}
		}
		if f.Status == 0 {
			next(w, r)
			return
		}
		counters.faulted.Add(1)
		if f.RetryAfter > 0 {
			secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
		s.logger.Debug("sandbox fault answered", "platform", slot.api.name(), "status", f.Status)
		slot.api.writeFault(w, f)
	}
}

// bufferBody reads up to maxFaultDrain bytes of body into memory and returns
// a body that yields them followed by whatever was not read.
func bufferBody(body io.ReadCloser) io.ReadCloser {
	buf, err := io.ReadAll(io.LimitReader(body, maxFaultDrain))
	rest := io.Reader(body)
	if err != nil {
		rest = errReader{err}
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), rest), body}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// validate checks a fault built from user input (flag or admin API).
func (f Fault) validate() error {
	var errs []error
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		errs = append(errs, fmt.Errorf("status %d: want a 4xx or 5xx code", f.Status))
	}
	if f.Status == 0 && f.Latency <= 0 {
		errs = append(errs, errors.New("a fault needs a status or a latency"))
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		errs = append(errs, fmt.Errorf("error_rate %v: want a share between 0 and 1", f.ErrorRate))
	}
	if f.RetryAfter < 0 || f.Latency < 0 || f.For < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if f.Requests < 0 {
		errs = append(errs, fmt.Errorf("requests %d: must not be negative", f.Requests))
	}
	if f.MetaCode < 0 {
		errs = append(errs, fmt.Errorf("meta_code %d: must not be negative", f.MetaCode))
	}
	return errors.Join(errs...)
}
