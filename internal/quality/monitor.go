package quality

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Sink takes outcomes as Follow reads them.
type Sink interface{ Add(event.Outcome) }

// Monitor is the quality stage: everything Follow feeds (the ledger, the
// windowed aggregates, the trace index) and what reads them (reports,
// health, alerts).
type Monitor struct {
	Ledger  *Ledger
	Agg     *Aggregator
	Traces  *Traces
	Alerter *Alerter
	// Breakers returns each destination's breaker state ("closed", "open",
	// "half_open"); nil when this process delivers nothing.
	Breakers func() map[string]string
	// Observe, if set, also sees every outcome (metrics).
	Observe func(event.Outcome)
	// CatchUp, if set, tells when Follow has read the topic's backlog;
	// alerts wait for it.
	CatchUp *CatchUp

	// fold is held while Follow adds a poll's records and while a snapshot
	// is taken, so a snapshot's windows hold exactly the outcomes below
	// its offsets.
	fold sync.Mutex
	// next is, per sp.outcomes partition, the offset after the last record
	// counted (restored from a snapshot, then advanced by Follow). A record
	// below it is in the aggregates already: it feeds the trace index only.
	next map[int32]int64
	// resume is where Follow starts after a restore (ResumeOffsets).
	resume map[int32]int64
	// seq counts the outcomes added and the records skipped, so a snapshot
	// writer can tell that nothing changed since its last snapshot.
	seq atomic.Uint64
}

// see passes Follow's record positions to CatchUp.
func (m *Monitor) see(p int32, off int64, ts time.Time) {
	if m.CatchUp != nil {
		m.CatchUp.see(p, off, ts)
	}
}

// MonitorOptions are a Monitor's dependencies.
type MonitorOptions struct {
	Clock        func() time.Time
	TrackRecords bool
}

// NewMonitor builds a Monitor from the quality config (defaults applied).
// Its Alerter has the config's rules but no webhook yet.
func NewMonitor(c Config, o MonitorOptions) *Monitor {
	c.ApplyDefaults()
	agg := NewAggregator(AggregatorOptions{Clock: o.Clock, MaxCells: c.MaxCells, Retention: c.Retention})
	m := &Monitor{Ledger: NewLedger(o.TrackRecords), Agg: agg, Traces: NewTraces(c.TraceEvents), next: map[int32]int64{}}
	m.Alerter = &Alerter{Rules: c.Alerts.Rules, Agg: agg, Clock: o.Clock, Breakers: func() map[string]string {
		if m.Breakers == nil {
			return nil
		}
		return m.Breakers()
	}, Ready: func() bool { return m.CatchUp.Done() }}
	return m
}

// Add feeds one outcome to every part, the ledger last: once the ledger
// balances, the report and the trace index hold every outcome too.
func (m *Monitor) Add(o event.Outcome) {
	m.Agg.Add(o)
	m.Traces.Add(o)
	if m.Observe != nil {
		m.Observe(o)
	}
	m.Ledger.Add(o)
	m.seq.Add(1)
}

// addAt feeds the outcome read at offset off of partition p, unless a
// restored snapshot counted it already; Follow holds m.fold.
func (m *Monitor) addAt(p int32, off int64, o event.Outcome) {
	if next, ok := m.next[p]; ok && off < next {
		m.Traces.Add(o)
		return
	}
	m.Add(o)
	m.next[p] = off + 1
}

// skip moves past a record that holds no outcome; Follow holds m.fold.
func (m *Monitor) skip(p int32, off int64) {
	m.next[p] = max(m.next[p], off+1)
	m.seq.Add(1)
}

// Report builds the report for q with each destination's health and the
// alerts.
func (m *Monitor) Report(q Query) Report {
	r := m.Agg.Report(q)
	r.Alerts = m.Alerter.Alerts()
	if r.Alerts == nil {
		r.Alerts = []Alert{}
	}
	var breakers map[string]string
	if m.Breakers != nil {
		breakers = m.Breakers()
	}
	for i := range r.Destinations {
		d := &r.Destinations[i]
		h := assess(d.Figures, breakers[d.Name], r.Alerts, d.Name)
		d.Health = &h
	}
	return r
}
