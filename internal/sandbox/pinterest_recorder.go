package sandbox

import "time"

// PinterestEvent is one event the Pinterest emulator accepted.
type PinterestEvent struct {
	AdAccountID  string `json:"ad_account_id"`
	EventName    string `json:"event_name"`
	EventID      string `json:"event_id"`
	ActionSource string `json:"action_source"`
	EventTime    int64  `json:"event_time"`
	// Raw is the data[] item as sent; Raw.Get("user_data", "em").
	Raw RawEvent `json:"raw"`
	// ReceivedAt is the sandbox clock's time when the request arrived.
	ReceivedAt time.Time `json:"received_at"`
}

// PinterestRecorder holds the events the Pinterest emulator accepted; its Stats count
// as Duplicates the events whose (ad account, event_id, event_name) was seen before.
type PinterestRecorder = EventRecorder[PinterestEvent]
