package sandbox

import "time"

// TikTokEvent is one event the TikTok emulator accepted.
type TikTokEvent struct {
	EventSource   string `json:"event_source"`
	EventSourceID string `json:"event_source_id"`
	Event         string `json:"event"`
	EventID       string `json:"event_id,omitempty"`
	EventTime     int64  `json:"event_time"`
	TestEventCode string `json:"test_event_code,omitempty"`
	// Raw is the data[] item as sent; Raw.Get("user", "email").
	Raw RawEvent `json:"raw"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// TikTokRecorder holds the events the TikTok emulator accepted; its Stats count
// as Duplicates the events whose (event_source_id, event, event_id) was seen before.
type TikTokRecorder = EventRecorder[TikTokEvent]
