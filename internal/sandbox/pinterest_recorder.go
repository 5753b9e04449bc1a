package sandbox

import "time"

// PinterestEvent is one event the Pinterest emulator accepted.
type PinterestEvent struct {
	AdAccountID  string         `json:"ad_account_id"`
	EventName    string         `json:"event_name"`
	EventID      string         `json:"event_id"`
	ActionSource string         `json:"action_source"`
	EventTime    int64          `json:"event_time"`
	UserData     map[string]any `json:"user_data"`
	CustomData   map[string]any `json:"custom_data,omitempty"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// PinterestRecorder holds the events the Pinterest emulator accepted and
// its counters; requests with ?test=true are validated but not recorded. It
// is safe for concurrent use.
type PinterestRecorder struct {
	log *eventLog[PinterestEvent]
}

// Events returns the stored accepted events in arrival order.
func (r *PinterestRecorder) Events() []PinterestEvent { return r.log.all() }

// Stats returns the counters. Rejected counts requests with at least one
// refused event; Duplicates counts events whose (ad account, event_id,
// event_name) was seen before.
func (r *PinterestRecorder) Stats() PlatformStats { return platformStats(r.log.counts()) }

// Reset forgets every stored event, dedupe key and counter.
func (r *PinterestRecorder) Reset() { r.log.reset() }
