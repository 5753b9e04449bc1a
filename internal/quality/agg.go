package quality

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Resolution is the width of an aggregate window.
type Resolution string

// The resolutions aggregates are kept at.
const (
	Minute Resolution = "minute"
	Hour   Resolution = "hour"
	Day    Resolution = "day"
)

// Resolutions lists them finest first.
var Resolutions = []Resolution{Minute, Hour, Day}

// Width returns the window's length.
func (r Resolution) Width() time.Duration {
	switch r {
	case Minute:
		return time.Minute
	case Hour:
		return time.Hour
	}
	return 24 * time.Hour
}

// Retention is how long each resolution is kept.
type Retention struct {
	Minutes time.Duration `yaml:"minutes"`
	Hours   time.Duration `yaml:"hours"`
	Days    time.Duration `yaml:"days"`
}

func (r *Retention) applyDefaults() {
	if r.Minutes == 0 {
		r.Minutes = DefaultMinuteRetention
	}
	if r.Hours == 0 {
		r.Hours = DefaultHourRetention
	}
	if r.Days == 0 {
		r.Days = DefaultDayRetention
	}
}

// Default retentions: minutes for two days, hours for 35 days (so a month
// compares with the one before and the same hour last week always exists),
// days for 400 (a year and its season).
const (
	DefaultMinuteRetention = 48 * time.Hour
	DefaultHourRetention   = 35 * 24 * time.Hour
	DefaultDayRetention    = 400 * 24 * time.Hour
	// DefaultMaxCells bounds the cells of one window; past it, further
	// (source, destination, event name) combinations count under event
	// name "other".
	DefaultMaxCells = 5000
	// maxReasons bounds the distinct reasons one cell keeps; the rest
	// count under "other".
	maxReasons = 64
)

func (r Retention) of(res Resolution) time.Duration {
	switch res {
	case Minute:
		return r.Minutes
	case Hour:
		return r.Hours
	}
	return r.Days
}

// Key names one aggregate cell. Destination is empty for the figures that
// exist before routing (received, valid, invalid, and suppression or dedupe
// decided for all destinations at once). Destinations are named accounts
// (config destinations[].name), so the destination is also the account.
type Key struct {
	Source      string `json:"source"`
	Destination string `json:"destination,omitempty"`
	EventName   string `json:"event_name"`
}

// Counters are one cell's figures.
type Counters struct {
	Received, Valid, Invalid               int64
	Deduplicated, Suppressed, ConsentSupp  int64
	Routed                                 int64
	Delivered, Rejected, Expired, Degraded int64
	Retried                                int64
	WithEventID                            int64
	Sent                                   int64 // outcomes that carried match keys
	Keys                                   [numKeyKinds]int64
	Fresh                                  sketch
	Older1h, Older24h                      int64
	ValueIn, ValueOut                      float64
	CurrencyProblems                       int64
	Reasons                                map[reasonKey]int64

	// DegradedEnrichment counts events routed to the destination that the
	// process stage handled without the person's state (Outcome.Degraded).
	DegradedEnrichment int64
}

// window holds one time window's cells.
type window struct {
	start time.Time
	cells map[Key]*Counters
	// values is the conversion value per destination and currency (kept
	// per window, not per cell: cheap to read, small to keep).
	values map[string][]CurrencyValue
	// version counts the outcomes applied, so a snapshot rewrites only the
	// windows that changed since the last one.
	version uint64
}

// CurrencyValue is the conversion value received and sent in one currency.
type CurrencyValue struct {
	Currency string  `json:"currency"`
	Received float64 `json:"received"`
	Sent     float64 `json:"sent"`
}

// maxCurrencies bounds the currencies kept apart per destination and
// window; the rest count under "other".
const maxCurrencies = 16

func (w *window) addValue(dest, cur string, received, sent float64) {
	if w.values == nil {
		w.values = map[string][]CurrencyValue{}
	}
	vs := w.values[dest]
	i := slices.IndexFunc(vs, func(v CurrencyValue) bool { return v.Currency == cur })
	if i < 0 && len(vs) >= maxCurrencies {
		cur = "other"
		i = slices.IndexFunc(vs, func(v CurrencyValue) bool { return v.Currency == cur })
	}
	if i < 0 {
		vs = append(vs, CurrencyValue{Currency: cur})
		i = len(vs) - 1
	}
	vs[i].Received += received
	vs[i].Sent += sent
	w.values[dest] = vs
}

// series is one resolution's windows, by start.
type series struct {
	res     Resolution
	windows map[int64]*window
	oldest  int64
}

// Aggregator keeps the windowed aggregates of sp.outcomes. It is fed every
// outcome by Follow (every replica reads all of sp.outcomes, and windows are
// keyed by each outcome's own time, so every replica holds the same figures),
// and rebuilt after a restart by reading the topic from the start again: the
// report covers what sp.outcomes still retains. It is safe for concurrent
// use, and its memory is bounded by retention × cells per window.
type Aggregator struct {
	clock     func() time.Time
	retention Retention
	maxCells  int

	mu       sync.RWMutex
	series   [3]*series
	examples *examples
	lastAdd  time.Time
}

// AggregatorOptions configure an Aggregator; zero values take the defaults.
type AggregatorOptions struct {
	Clock     func() time.Time
	Retention Retention
	MaxCells  int
}

// NewAggregator returns an empty aggregator.
func NewAggregator(o AggregatorOptions) *Aggregator {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	o.Retention.applyDefaults()
	if o.MaxCells == 0 {
		o.MaxCells = DefaultMaxCells
	}
	a := &Aggregator{clock: o.Clock, retention: o.Retention, maxCells: o.MaxCells, examples: newExamples(500, 3)}
	for i, r := range Resolutions {
		a.series[i] = &series{res: r, windows: map[int64]*window{}}
	}
	return a
}

// truncate returns the start of t's window at res, in UTC.
func truncate(t time.Time, res Resolution) time.Time {
	t = t.UTC()
	if res == Day {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(res.Width())
}

// Add accounts for one outcome in every resolution still retaining its time.
func (a *Aggregator) Add(o event.Outcome) {
	now := a.clock()
	at := o.At
	if at.IsZero() {
		at = now
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.series {
		ret := a.retention.of(s.res)
		if at.Before(now.Add(-ret)) {
			continue
		}
		start := truncate(at, s.res)
		w := s.windows[start.Unix()]
		if w == nil {
			w = &window{start: start, cells: map[Key]*Counters{}}
			s.windows[start.Unix()] = w
			a.evict(s, now.Add(-ret))
		}
		apply(w, o, a.maxCells)
	}
	if o.Status == event.StatusRejected || o.Status == event.StatusExpired || o.Status == event.StatusInvalid || o.Status == event.StatusDegradedExported {
		if o.EventID != "" {
			a.examples.add(o.Destination, string(o.Status)+":"+o.Reason, o.EventID)
		}
	}
	if at.After(a.lastAdd) {
		a.lastAdd = at
	}
}

// evict drops s's windows that end before cutoff.
func (a *Aggregator) evict(s *series, cutoff time.Time) {
	c := truncate(cutoff, s.res).Unix()
	if s.oldest >= c {
		return
	}
	oldest := int64(1<<63 - 1)
	for k := range s.windows {
		if k < c {
			delete(s.windows, k)
		} else {
			oldest = min(oldest, k)
		}
	}
	s.oldest = oldest
}

// Prune drops windows past retention now; Add does it as windows open, so
// only a quiet pipeline needs it.
func (a *Aggregator) Prune() {
	now := a.clock()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.series {
		s.oldest = 0
		a.evict(s, now.Add(-a.retention.of(s.res)))
	}
}

func cell(w *window, k Key, maxCells int) *Counters {
	c := w.cells[k]
	if c == nil {
		if len(w.cells) >= maxCells {
			k.EventName = "other"
			if c = w.cells[k]; c != nil {
				return c
			}
		}
		c = &Counters{}
		w.cells[k] = c
	}
	return c
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// apply adds o to window w.
func apply(w *window, o event.Outcome, maxCells int) {
	w.version++
	k := Key{Source: orUnknown(string(o.Source)), Destination: o.Destination, EventName: orUnknown(o.EventName)}
	if o.Status == event.StatusRouted {
		c := cell(w, k, maxCells)
		c.Received++
		c.Valid++
		if o.EventID != "" {
			c.WithEventID++
		}
		for _, d := range o.Destinations {
			dk := k
			dk.Destination = d
			dc := cell(w, dk, maxCells)
			dc.Routed++
			if o.Degraded != "" {
				dc.DegradedEnrichment++
			}
		}
		return
	}
	if !o.Status.Terminal() {
		return
	}
	c := cell(w, k, maxCells)
	if o.Destination == "" {
		// Ended before routing: this outcome is the record's only one.
		c.Received++
		if o.Status != event.StatusInvalid {
			c.Valid++
			if o.EventID != "" {
				c.WithEventID++
			}
		}
	}
	switch o.Status {
	case event.StatusInvalid:
		c.Invalid++
	case event.StatusDeduplicated:
		c.Deduplicated++
	case event.StatusSuppressed:
		if strings.HasPrefix(o.Reason, "consent") {
			c.ConsentSupp++
		} else {
			c.Suppressed++
		}
	case event.StatusDelivered:
		c.Delivered++
		if !o.EventTime.IsZero() {
			lag := o.At.Sub(o.EventTime)
			c.Fresh.add(max(lag.Seconds(), 0))
			if lag > time.Hour {
				c.Older1h++
			}
			if lag > 24*time.Hour {
				c.Older24h++
			}
		}
	case event.StatusRejected:
		c.Rejected++
	case event.StatusExpired:
		c.Expired++
	case event.StatusDegradedExported:
		c.Degraded++
	}
	if o.Attempts > 1 {
		c.Retried++
	}
	if o.Destination != "" && (o.Status == event.StatusDelivered || len(o.MatchKeys) > 0) {
		c.Sent++
		set := kindsOf(o.MatchKeys)
		for i := range numKeyKinds {
			if set&(1<<i) != 0 {
				c.Keys[i]++
			}
		}
	}
	if o.Value != nil && o.Destination != "" {
		c.ValueIn += *o.Value
		sent := 0.0
		if o.Status == event.StatusDelivered {
			c.ValueOut += *o.Value
			sent = *o.Value
		}
		w.addValue(o.Destination, orUnknown(o.Currency), *o.Value, sent)
		if !validCurrency(o.Currency) {
			c.CurrencyProblems++
		}
	} else if strings.Contains(o.Reason, "currency") || (o.Status == event.StatusInvalid && strings.Contains(o.Detail, "currency")) {
		c.CurrencyProblems++
	}
	if o.Status != event.StatusDelivered && (o.Reason != "" || o.Status != event.StatusDeduplicated) {
		if c.Reasons == nil {
			c.Reasons = map[reasonKey]int64{}
		}
		r := reasonKey{o.Status, orUnknown(o.Reason)}
		if _, ok := c.Reasons[r]; !ok && len(c.Reasons) >= maxReasons {
			r.reason = "other"
		}
		c.Reasons[r]++
	}
}

// reasonKey is a non-delivered outcome's status and reason code.
type reasonKey struct {
	status event.Status
	reason string
}

// MarshalText writes "status:reason", so snapshots can encode the cell's
// reasons as a JSON object.
func (r reasonKey) MarshalText() ([]byte, error) {
	return []byte(string(r.status) + ":" + r.reason), nil
}

// UnmarshalText reads what MarshalText wrote (statuses hold no colon).
func (r *reasonKey) UnmarshalText(b []byte) error {
	st, reason, ok := strings.Cut(string(b), ":")
	if !ok {
		return fmt.Errorf("reading reason %q: want status:reason", b)
	}
	r.status, r.reason = event.Status(st), reason
	return nil
}

// validCurrency reports whether c looks like an ISO 4217 code.
func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// examples keeps a few recent event ids per (destination, reason), so the
// report can point at events to trace. Event ids are not personal data; the
// map is bounded in keys and ids per key.
type examples struct {
	maxKeys, perKey int
	m               map[string][]string
}

func newExamples(maxKeys, perKey int) *examples {
	return &examples{maxKeys: maxKeys, perKey: perKey, m: map[string][]string{}}
}

func (e *examples) add(dest, reason, id string) {
	k := dest + "\x00" + reason
	ids, ok := e.m[k]
	if !ok && len(e.m) >= e.maxKeys {
		return
	}
	for _, x := range ids {
		if x == id {
			return
		}
	}
	if len(ids) >= e.perKey {
		ids = append(ids[1:], id)
	} else {
		ids = append(ids, id)
	}
	e.m[k] = ids
}

func (e *examples) get(dest, reason string) []string {
	return append([]string(nil), e.m[dest+"\x00"+reason]...)
}
