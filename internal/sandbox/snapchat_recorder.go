package sandbox

import "time"

// SnapchatEvent is one event the Snapchat emulator accepted.
type SnapchatEvent struct {
	PixelID      string `json:"pixel_id"`
	EventName    string `json:"event_name"`
	EventID      string `json:"event_id,omitempty"`
	ActionSource string `json:"action_source"`
	EventTime    int64  `json:"event_time"`
	// Raw is the data[] item as sent; Raw.Get("user_data", "ph").
	Raw RawEvent `json:"raw"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// SnapchatRecorder holds the events the Snapchat emulator accepted; its Stats count
// as Duplicates the events whose (pixel, event_id, event_name) was seen before.
type SnapchatRecorder = EventRecorder[SnapchatEvent]
