package sandbox

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
