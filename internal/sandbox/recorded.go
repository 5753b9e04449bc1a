package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// RecordedEvent is one event an emulator that keeps events as sent (LinkedIn,
// Reddit, Microsoft) accepted.
type RecordedEvent struct {
	// Account is what the request addressed: the conversion rule, pixel,
	// UET tag or ad account.
	Account string `json:"account"`
	// EventID is the platform's dedupe key for the event, when it has one.
	EventID   string `json:"event_id,omitempty"`
	EventName string `json:"event_name,omitempty"`
	// Test marks events sent in the platform's test mode.
	Test bool `json:"test,omitempty"`
	// Raw is the event's JSON as sent (compacted).
	Raw json.RawMessage `json:"raw"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// RecorderStats counts what one emulator saw since it started or was reset.
type RecorderStats struct {
	// Requests is every request to the platform's API, faulted ones included.
	Requests int64 `json:"requests"`
	// Accepted is the number of events (not requests) accepted.
	Accepted int64 `json:"accepted"`
	// Rejected is the number of requests refused as a whole for breaking
	// the contract (events refused inside an accepted batch are not counted).
	Rejected int64 `json:"rejected"`
	// Faulted is the number of requests answered by an injected fault.
	Faulted int64 `json:"faulted"`
	// Duplicates is the number of accepted events whose dedupe key had
	// already been accepted; the platform would deduplicate them.
	Duplicates int64 `json:"duplicates"`
	// Dropped is the number of accepted events not stored because
	// Options.MaxRecorded was reached.
	Dropped int64 `json:"dropped"`
}

// Recorder holds the events one emulator accepted and its counters. It is
// safe for concurrent use.
type Recorder struct {
	log *eventLog[RecordedEvent]
}

func newRecorder(maxRecorded int) *Recorder {
	return &Recorder{log: newEventLog[RecordedEvent](maxRecorded)}
}

// Events returns the stored accepted events in arrival order. The result is
// the caller's to modify.
func (r *Recorder) Events() []RecordedEvent { return cloneRecorded(r.log.all()) }

// Stats returns the counters.
func (r *Recorder) Stats() RecorderStats {
	c := r.log.counts()
	return RecorderStats{Requests: c.requests, Accepted: c.accepted, Rejected: c.rejected,
		Faulted: c.faulted, Duplicates: c.duplicates, Dropped: c.dropped}
}

// Reset forgets every stored event, every dedupe key and every counter.
func (r *Recorder) Reset() { r.log.reset() }

// bearerEmulator is what the emulators of bearer-token APIs (LinkedIn,
// Reddit, Microsoft) share: their recorder, clock, accepted token and
// logger.
type bearerEmulator struct {
	recording
	clock  func() time.Time
	token  string // empty: any non-empty bearer token
	logger *slog.Logger
}

func newBearerEmulator(e emulatorEnv, name string) bearerEmulator {
	return bearerEmulator{
		recording: recording{rec: newRecorder(e.maxRecorded)},
		clock:     e.clock,
		token:     e.opts.BearerTokens[name],
		logger:    e.logger.With("platform", name),
	}
}

// faultCode picks an error code for an injected fault's status from the
// platform's names for throttling, bad token, forbidden, other 4xx and 5xx.
func faultCode(status int, throttled, unauthorized, forbidden, badRequest, server string) string {
	switch {
	case status == http.StatusTooManyRequests:
		return throttled
	case status == http.StatusUnauthorized:
		return unauthorized
	case status == http.StatusForbidden:
		return forbidden
	case status < 500:
		return badRequest
	}
	return server
}

// recording is the recorder half of the platform interface, embedded by the
// emulators that keep RecordedEvents.
type recording struct{ rec *Recorder }

func (p recording) counters() *requestCounters { return &p.rec.log.requestCounters }

func (p recording) stats() any { return p.rec.Stats() }

func (p recording) reset() { p.rec.Reset() }

func (p recording) events(limit int, eventID string) any {
	var match func(*RecordedEvent) bool
	if eventID != "" {
		match = func(r *RecordedEvent) bool { return r.EventID == eventID }
	}
	evs := cloneRecorded(p.rec.log.last(limit, match))
	return struct {
		Count  int             `json:"count"`
		Events []RecordedEvent `json:"events"`
	}{len(evs), evs}
}

// add records accepted events; each is deduplicated on (account, event id,
// name) when it has an event id.
func (p recording) add(evs []RecordedEvent) {
	keys := make([]uint64, len(evs))
	for i, ev := range evs {
		if ev.EventID != "" {
			keys[i] = p.rec.log.dedupeKey([3]string{ev.Account, ev.EventID, ev.EventName})
		}
	}
	p.rec.log.add(evs, keys)
}

// cloneRecorded copies evs' Raw bytes, which the log shares, and never
// returns nil (the admin API shows an empty list as []).
func cloneRecorded(evs []RecordedEvent) []RecordedEvent {
	out := make([]RecordedEvent, len(evs))
	for i, ev := range evs {
		ev.Raw = bytes.Clone(ev.Raw)
		out[i] = ev
	}
	return out
}

// compactJSON returns raw without insignificant space; raw must be valid.
func compactJSON(raw []byte) json.RawMessage {
	var b bytes.Buffer
	_ = json.Compact(&b, raw)
	return b.Bytes()
}

// bearerStatus is what an Authorization header holds.
type bearerStatus int

const (
	bearerOK bearerStatus = iota
	bearerMissing
	bearerWrong
)

// checkBearer checks "Authorization: Bearer <token>" against want; an empty
// want accepts any non-empty token.
func checkBearer(r *http.Request, want string) bearerStatus {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || strings.TrimSpace(token) == "":
		return bearerMissing
	case want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(token)) != 1:
		return bearerWrong
	}
	return bearerOK
}

// readBody reads at most limit bytes of the request body; tooLarge reports
// a body over the limit.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > limit {
		return nil, true, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, true, nil
		}
		return nil, false, err
	}
	return buf.Bytes(), false, nil
}

// sha256HexRe is a lowercase SHA-256 hex digest, the only form a hashed
// field may take.
var sha256HexRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// isJSONContent reports whether the request says its body is JSON.
func isJSONContent(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}
