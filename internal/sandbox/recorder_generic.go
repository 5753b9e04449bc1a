package sandbox

import "encoding/json"

// RawEvent is an accepted event's JSON as it was sent (compacted). The
// emulators store events this way rather than decoded, so that a sandbox
// holding millions of events costs bytes, not maps; Get decodes on demand.
// The bytes are shared: callers must not modify them.
type RawEvent []byte

// MarshalJSON embeds the event as JSON (null when empty).
func (r RawEvent) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// Get returns the value at path (object keys from the event's top level),
// nil when absent. Numbers come back as float64, lists as []any.
func (r RawEvent) Get(path ...string) any {
	var v any
	if json.Unmarshal(r, &v) != nil {
		return nil
	}
	for _, k := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

// compactEvent renders a decoded event back to compact JSON for storage.
func compactEvent(obj map[string]any) RawEvent {
	b, _ := json.Marshal(obj) // decoded from JSON, so it encodes
	return b
}

// EventRecorder holds the events an emulator accepted and its counters, for
// emulators that store each event decoded (TikTok, Snapchat, Pinterest). It
// is safe for concurrent use.
type EventRecorder[E any] struct {
	log *eventLog[E]
}

func newEventRecorder[E any](maxRecorded int) *EventRecorder[E] {
	return &EventRecorder[E]{log: newEventLog[E](maxRecorded)}
}

// Events returns the stored accepted events in arrival order.
func (r *EventRecorder[E]) Events() []E { return r.log.all() }

// Stats returns the counters.
func (r *EventRecorder[E]) Stats() PlatformStats { return platformStats(r.log.counts()) }

// Reset forgets every stored event, dedupe key and counter.
func (r *EventRecorder[E]) Reset() { r.log.reset() }

// recent is the admin API's view of the last limit events, only those with
// eventID when it is set.
func (r *EventRecorder[E]) recent(limit int, eventID string, id func(*E) string) any {
	var match func(*E) bool
	if eventID != "" {
		match = func(e *E) bool { return id(e) == eventID }
	}
	evs := r.log.last(limit, match)
	if evs == nil {
		evs = []E{}
	}
	return struct {
		Count  int `json:"count"`
		Events []E `json:"events"`
	}{len(evs), evs}
}
