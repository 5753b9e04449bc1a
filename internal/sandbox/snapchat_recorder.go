package sandbox

import "time"

// SnapchatEvent is one event the Snapchat emulator accepted.
type SnapchatEvent struct {
	PixelID      string         `json:"pixel_id"`
	EventName    string         `json:"event_name"`
	EventID      string         `json:"event_id,omitempty"`
	ActionSource string         `json:"action_source"`
	EventTime    int64          `json:"event_time"`
	UserData     map[string]any `json:"user_data"`
	CustomData   map[string]any `json:"custom_data,omitempty"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// SnapchatRecorder holds the events the Snapchat emulator accepted and its
// counters; the validate endpoint records nothing. It is safe for
// concurrent use.
type SnapchatRecorder struct {
	log *eventLog[SnapchatEvent]
}

// Events returns the stored accepted events in arrival order.
func (r *SnapchatRecorder) Events() []SnapchatEvent { return r.log.all() }

// Stats returns the counters. Duplicates counts events whose (pixel,
// event_id, event_name) was seen before.
func (r *SnapchatRecorder) Stats() PlatformStats { return platformStats(r.log.counts()) }

// Reset forgets every stored event, dedupe key and counter.
func (r *SnapchatRecorder) Reset() { r.log.reset() }
