package sandbox

import (
	"encoding/json"
	"time"
)

// MetaEvent is one event the Meta emulator accepted, as it was sent.
type MetaEvent struct {
	Pixel          string         `json:"pixel"`
	EventName      string         `json:"event_name"`
	EventID        string         `json:"event_id,omitempty"`
	ActionSource   string         `json:"action_source"`
	TestEventCode  string         `json:"test_event_code,omitempty"`
	EventTime      int64          `json:"event_time"`
	UserData       map[string]any `json:"user_data"`
	CustomData     map[string]any `json:"custom_data,omitempty"`
	EventSourceURL string         `json:"event_source_url,omitempty"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// MetaStats counts what the Meta emulator saw since it started or was reset.
type MetaStats struct {
	// Requests is every request to the events endpoint, faulted ones included.
	Requests int64 `json:"requests"`
	// Accepted is the number of events (not requests) accepted.
	Accepted int64 `json:"accepted"`
	// Rejected is the number of requests refused for breaking the contract.
	Rejected int64 `json:"rejected"`
	// Faulted is the number of requests answered by an injected fault instead
	// of being processed (including those whose client left during Latency).
	Faulted int64 `json:"faulted"`
	// Duplicates is the number of accepted events whose (pixel, event_id,
	// event_name) had already been accepted; Meta would deduplicate them.
	Duplicates int64 `json:"duplicates"`
	// Dropped is the number of accepted events not stored because
	// Options.MaxRecorded was reached.
	Dropped int64 `json:"dropped"`
}

// MetaRecorder holds the events the Meta emulator accepted and its counters.
// It is safe for concurrent use.
type MetaRecorder struct {
	log *eventLog[metaRecord]
}

// metaBatch is what the events of one request share.
type metaBatch struct {
	pixel         string
	testEventCode string
	receivedAt    time.Time
}

// metaRecord is a stored event: its JSON as received, decoded into a
// MetaEvent only when someone asks. Stored bytes hold no pointers, so a full
// recorder costs the garbage collector almost nothing.
type metaRecord struct {
	raw     []byte
	eventID string // for the admin API's event_id filter
	batch   *metaBatch
}

func (r *metaRecord) event() MetaEvent {
	var w struct {
		EventName      string         `json:"event_name"`
		EventTime      int64          `json:"event_time"`
		EventID        string         `json:"event_id"`
		ActionSource   string         `json:"action_source"`
		EventSourceURL string         `json:"event_source_url"`
		UserData       map[string]any `json:"user_data"`
		CustomData     map[string]any `json:"custom_data"`
	}
	// The bytes passed the contract checks, which decoded them into the
	// same types, so this cannot fail.
	_ = json.Unmarshal(r.raw, &w)
	return MetaEvent{
		Pixel:          r.batch.pixel,
		EventName:      w.EventName,
		EventID:        w.EventID,
		ActionSource:   w.ActionSource,
		TestEventCode:  r.batch.testEventCode,
		EventTime:      w.EventTime,
		UserData:       w.UserData,
		CustomData:     w.CustomData,
		EventSourceURL: w.EventSourceURL,
		ReceivedAt:     r.batch.receivedAt,
	}
}

// Events returns the stored accepted events in arrival order. Each call
// decodes them afresh, so callers may modify the result.
func (r *MetaRecorder) Events() []MetaEvent {
	recs := r.log.all()
	out := make([]MetaEvent, len(recs))
	for i := range recs {
		out[i] = recs[i].event()
	}
	return out
}

// Stats returns the counters.
func (r *MetaRecorder) Stats() MetaStats {
	c := r.log.counts()
	return MetaStats{
		Requests:   c.requests,
		Accepted:   c.accepted,
		Rejected:   c.rejected,
		Faulted:    c.faulted,
		Duplicates: c.duplicates,
		Dropped:    c.dropped,
	}
}

// Reset forgets every stored event, every dedupe key and every counter.
func (r *MetaRecorder) Reset() { r.log.reset() }
