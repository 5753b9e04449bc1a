package quality

import (
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
	m := &Monitor{Ledger: NewLedger(o.TrackRecords), Agg: agg, Traces: NewTraces(c.TraceEvents)}
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
