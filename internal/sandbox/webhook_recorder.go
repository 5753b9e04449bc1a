package sandbox

import (
	"bytes"
	"encoding/json"
	"time"
)

// WebhookEvent is one event the webhook receiver accepted.
type WebhookEvent struct {
	// Endpoint is the {endpoint} of the /hooks/{endpoint} path it was sent to.
	Endpoint  string `json:"endpoint"`
	EventID   string `json:"event_id"`
	EventName string `json:"event_name"`
	Source    string `json:"source,omitempty"`
	// Raw is the event's JSON as sent (compacted).
	Raw json.RawMessage `json:"raw"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// WebhookStats counts what the webhook receiver saw since it started or was
// reset.
type WebhookStats struct {
	// Requests is every request to /hooks/{endpoint}, faulted ones included.
	Requests int64 `json:"requests"`
	// Accepted is the number of events (not requests) accepted.
	Accepted int64 `json:"accepted"`
	// Rejected is the number of requests refused for breaking the contract
	// (signature, timestamp, body shape, raw personal data).
	Rejected int64 `json:"rejected"`
	// Faulted is the number of requests answered by an injected fault.
	Faulted int64 `json:"faulted"`
	// Duplicates is the number of accepted events whose (endpoint, event_id)
	// had already been accepted.
	Duplicates int64 `json:"duplicates"`
	// Dropped is the number of accepted events not stored because
	// Options.MaxRecorded was reached.
	Dropped int64 `json:"dropped"`
}

// WebhookRecorder holds the events the webhook receiver accepted and its
// counters. It is safe for concurrent use.
type WebhookRecorder struct {
	log *eventLog[WebhookEvent]
}

// Events returns the stored accepted events in arrival order. The result is
// the caller's to modify.
func (r *WebhookRecorder) Events() []WebhookEvent {
	return cloneWebhookEvents(r.log.all())
}

// Stats returns the counters.
func (r *WebhookRecorder) Stats() WebhookStats {
	c := r.log.counts()
	return WebhookStats{
		Requests:   c.requests,
		Accepted:   c.accepted,
		Rejected:   c.rejected,
		Faulted:    c.faulted,
		Duplicates: c.duplicates,
		Dropped:    c.dropped,
	}
}

// Reset forgets every stored event, every dedupe key and every counter.
func (r *WebhookRecorder) Reset() { r.log.reset() }

// cloneWebhookEvents copies evs' Raw bytes, which the log shares, and never
// returns nil (the admin API shows an empty list as []).
func cloneWebhookEvents(evs []WebhookEvent) []WebhookEvent {
	out := make([]WebhookEvent, len(evs))
	for i, ev := range evs {
		ev.Raw = bytes.Clone(ev.Raw)
		out[i] = ev
	}
	return out
}
