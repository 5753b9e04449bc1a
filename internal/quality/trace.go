package quality

import (
	"container/list"
	"slices"
	"sync"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// maxTraceSteps bounds the outcomes kept for one event id (an event sent
// again and again keeps its latest steps).
const maxTraceSteps = 64

// Traces is a bounded index of recent events' outcomes by event id: the
// most recently seen Capacity event ids (least recently seen evicted
// first), each with at most 64 outcomes. It answers "did this purchase
// reach Meta, and what did Meta say?" for recent events; older ones are
// in sp.outcomes. Outcomes carry no personal data, so neither does it.
type Traces struct {
	capacity int
	mu       sync.Mutex
	ll       *list.List
	idx      map[string]*list.Element
}

type traceEntry struct {
	id    string
	steps []event.Outcome
}

// NewTraces returns an index of at most capacity events (0 keeps none).
func NewTraces(capacity int) *Traces {
	return &Traces{capacity: capacity, ll: list.New(), idx: map[string]*list.Element{}}
}

// Add records o under its event id.
func (t *Traces) Add(o event.Outcome) {
	if o.EventID == "" || t.capacity <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.idx[o.EventID]
	if el == nil {
		el = t.ll.PushFront(&traceEntry{id: o.EventID})
		t.idx[o.EventID] = el
		if t.ll.Len() > t.capacity {
			old := t.ll.Back()
			t.ll.Remove(old)
			delete(t.idx, old.Value.(*traceEntry).id)
		}
	} else {
		t.ll.MoveToFront(el)
	}
	e := el.Value.(*traceEntry)
	if len(e.steps) >= maxTraceSteps {
		e.steps = slices.Delete(e.steps, 0, 1)
	}
	e.steps = append(e.steps, o)
}

// Len is the number of events indexed.
func (t *Traces) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ll.Len()
}

// Trace is one event's path through the pipeline.
type Trace struct {
	EventID   string    `json:"event_id"`
	EventName string    `json:"event_name,omitempty"`
	Source    string    `json:"source,omitempty"`
	EventTime time.Time `json:"event_time,omitzero"`
	// Records lists the input records carrying this event id (more than
	// one when a producer sent it again).
	Records []string `json:"records"`
	// Steps are the outcomes in time order.
	Steps []event.Outcome `json:"steps"`
	// Destinations is each destination's final word on the event.
	Destinations []DestinationFate `json:"destinations"`
	Summary      string            `json:"summary"`
}

// DestinationFate is what became of the event at one destination.
type DestinationFate struct {
	Destination string       `json:"destination"`
	Status      event.Status `json:"status"`
	Reason      string       `json:"reason,omitempty"`
	Detail      string       `json:"detail,omitempty"`
	Attempts    int          `json:"attempts,omitempty"`
	PlatformRef string       `json:"platform_ref,omitempty"`
	MatchKeys   []string     `json:"match_keys,omitempty"`
	At          time.Time    `json:"at"`
}

// Get returns the trace of id, and whether the index holds it.
func (t *Traces) Get(id string) (Trace, bool) {
	t.mu.Lock()
	el := t.idx[id]
	var steps []event.Outcome
	if el != nil {
		steps = slices.Clone(el.Value.(*traceEntry).steps)
	}
	t.mu.Unlock()
	if el == nil {
		return Trace{}, false
	}
	slices.SortStableFunc(steps, func(a, b event.Outcome) int { return a.At.Compare(b.At) })
	tr := Trace{EventID: id, Steps: steps}
	fates := map[string]int{}
	for _, s := range steps {
		if s.EventName != "" {
			tr.EventName = s.EventName
		}
		if s.Source != "" {
			tr.Source = string(s.Source)
		}
		if !s.EventTime.IsZero() {
			tr.EventTime = s.EventTime
		}
		if !slices.Contains(tr.Records, s.Record) {
			tr.Records = append(tr.Records, s.Record)
		}
		if s.Destination == "" || !s.Status.Terminal() {
			continue
		}
		f := DestinationFate{Destination: s.Destination, Status: s.Status, Reason: s.Reason, Detail: s.Detail, Attempts: s.Attempts, PlatformRef: s.PlatformRef, MatchKeys: s.MatchKeys, At: s.At}
		if i, ok := fates[s.Destination]; ok {
			tr.Destinations[i] = f
		} else {
			fates[s.Destination] = len(tr.Destinations)
			tr.Destinations = append(tr.Destinations, f)
		}
	}
	tr.Summary = summarize(tr)
	return tr, true
}

func summarize(tr Trace) string {
	if len(tr.Steps) == 0 {
		return ""
	}
	last := tr.Steps[len(tr.Steps)-1]
	if len(tr.Destinations) == 0 {
		switch last.Status {
		case event.StatusRouted:
			return "routed to " + joinComma(last.Destinations) + "; waiting for the platform's answer"
		case event.StatusInvalid, event.StatusSuppressed, event.StatusDeduplicated:
			return string(last.Status) + " before routing (" + last.Reason + ")"
		}
	}
	s := ""
	for i, d := range tr.Destinations {
		if i > 0 {
			s += "; "
		}
		s += d.Destination + ": " + string(d.Status)
		if d.Reason != "" {
			s += " (" + d.Reason + ")"
		}
		if d.PlatformRef != "" {
			s += ", platform ref " + d.PlatformRef
		}
	}
	return s
}

func joinComma(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}
