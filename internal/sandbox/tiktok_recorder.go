package sandbox

import "time"

// TikTokEvent is one event the TikTok emulator accepted.
type TikTokEvent struct {
	EventSource   string         `json:"event_source"`
	EventSourceID string         `json:"event_source_id"`
	Event         string         `json:"event"`
	EventID       string         `json:"event_id,omitempty"`
	EventTime     int64          `json:"event_time"`
	TestEventCode string         `json:"test_event_code,omitempty"`
	User          map[string]any `json:"user"`
	Properties    map[string]any `json:"properties,omitempty"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// TikTokRecorder holds the events the TikTok emulator accepted and its
// counters. It is safe for concurrent use.
type TikTokRecorder struct {
	log *eventLog[TikTokEvent]
}

// Events returns the stored accepted events in arrival order.
func (r *TikTokRecorder) Events() []TikTokEvent { return r.log.all() }

// Stats returns the counters. Rejected counts requests with at least one
// refused event; Duplicates counts events whose (event_source_id, event,
// event_id) was seen before, which TikTok would drop.
func (r *TikTokRecorder) Stats() PlatformStats { return platformStats(r.log.counts()) }

// Reset forgets every stored event, dedupe key and counter.
func (r *TikTokRecorder) Reset() { r.log.reset() }
