package quality

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Query selects what a report covers. Zero Since and Until mean the last 24
// hours; empty filters take everything.
type Query struct {
	Since, Until time.Time
	Destination  string
	EventName    string
	Source       string
	// Resolution of the trend series; "" picks one from the span.
	Resolution Resolution
}

// Figures are the quality figures of a set of cells.
type Figures struct {
	// Received counts input records (before routing); Valid those that
	// decoded and validated; Routed the (event, destination) pairs handed
	// to destinations.
	Received          int64 `json:"received"`
	Valid             int64 `json:"valid"`
	Invalid           int64 `json:"invalid"`
	Deduplicated      int64 `json:"deduplicated"`
	Suppressed        int64 `json:"suppressed"`
	ConsentSuppressed int64 `json:"consent_suppressed"`
	Routed            int64 `json:"routed"`
	Delivered         int64 `json:"delivered"`
	Rejected          int64 `json:"rejected"`
	Retried           int64 `json:"retried"`
	Expired           int64 `json:"expired"`
	DegradedExported  int64 `json:"degraded_exported"`
	// DegradedEnrichment are events routed without the person's state
	// (no stored click ids or profile, no dedupe check).
	DegradedEnrichment int64 `json:"degraded_enrichment"`
	// InvalidByReason and RejectedByReason break the failures down by
	// their reason code.
	InvalidByReason  map[string]int64 `json:"invalid_by_reason,omitempty"`
	RejectedByReason map[string]int64 `json:"rejected_by_reason,omitempty"`
	// DeliveryRate is delivered over the destinations' terminal outcomes;
	// ErrorRate is rejected + expired over the same.
	DeliveryRate float64 `json:"delivery_rate"`
	ErrorRate    float64 `json:"error_rate"`
	// Coverage is the share of sent events carrying each kind of
	// identifier (email, phone, external_id, click_id, fbc_fbp, ip_ua,
	// address).
	Coverage map[string]float64 `json:"match_key_coverage"`
	// MatchQualityEstimate is a 0–10 estimate (see MatchQuality), not a
	// platform's score.
	MatchQualityEstimate float64   `json:"match_quality_estimate"`
	Freshness            Freshness `json:"freshness"`
	// ValueReceived and ValueSent add up amounts whatever their currency;
	// ValueByCurrency keeps them apart (totals and destinations of reports
	// not filtered by event name or source).
	ValueReceived    float64         `json:"value_received"`
	ValueSent        float64         `json:"value_sent"`
	ValueByCurrency  []CurrencyValue `json:"value_by_currency,omitempty"`
	CurrencyProblems int64           `json:"currency_problems"`
	// EventIDShare is the share of valid events carrying an event id, which
	// the platforms need to deduplicate browser and server events.
	EventIDShare float64 `json:"event_id_share"`

	sent     int64
	keys     [numKeyKinds]int64
	fresh    dense
	old1h    int64
	old24h   int64
	withID   int64
	failures int64
}

// Freshness is event time → platform acceptance, for delivered events.
type Freshness struct {
	Samples      uint64  `json:"samples"`
	P50Seconds   float64 `json:"p50_seconds"`
	P95Seconds   float64 `json:"p95_seconds"`
	P99Seconds   float64 `json:"p99_seconds"`
	OlderThan1h  float64 `json:"share_older_1h"`
	OlderThan24h float64 `json:"share_older_24h"`
}

func (f *Figures) add(c *Counters) {
	f.Received += c.Received
	f.Valid += c.Valid
	f.Invalid += c.Invalid
	f.Deduplicated += c.Deduplicated
	f.Suppressed += c.Suppressed
	f.ConsentSuppressed += c.ConsentSupp
	f.Routed += c.Routed
	f.Delivered += c.Delivered
	f.Rejected += c.Rejected
	f.Retried += c.Retried
	f.Expired += c.Expired
	f.DegradedExported += c.Degraded
	f.DegradedEnrichment += c.DegradedEnrichment
	f.sent += c.Sent
	for i := range f.keys {
		f.keys[i] += c.Keys[i]
	}
	f.fresh.merge(c.Fresh)
	f.old1h += c.Older1h
	f.old24h += c.Older24h
	f.ValueReceived += c.ValueIn
	f.ValueSent += c.ValueOut
	f.CurrencyProblems += c.CurrencyProblems
	f.withID += c.WithEventID
	if len(c.Reasons) == 0 {
		return
	}
	for r, n := range c.Reasons {
		switch r.status {
		case event.StatusInvalid:
			f.InvalidByReason = bumpReason(f.InvalidByReason, r.reason, n)
		case event.StatusRejected:
			f.RejectedByReason = bumpReason(f.RejectedByReason, r.reason, n)
		}
	}
}

func bumpReason(m map[string]int64, reason string, n int64) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[reason] += n
	return m
}

// merge adds o's raw figures (not the derived ones finish computes) to f.
func (f *Figures) merge(o *Figures) {
	f.Received += o.Received
	f.Valid += o.Valid
	f.Invalid += o.Invalid
	f.Deduplicated += o.Deduplicated
	f.Suppressed += o.Suppressed
	f.ConsentSuppressed += o.ConsentSuppressed
	f.Routed += o.Routed
	f.Delivered += o.Delivered
	f.Rejected += o.Rejected
	f.Retried += o.Retried
	f.Expired += o.Expired
	f.DegradedExported += o.DegradedExported
	f.DegradedEnrichment += o.DegradedEnrichment
	f.sent += o.sent
	for i := range f.keys {
		f.keys[i] += o.keys[i]
	}
	for i, n := range o.fresh.n {
		f.fresh.n[i] += n
	}
	f.fresh.t += o.fresh.t
	f.old1h += o.old1h
	f.old24h += o.old24h
	f.ValueReceived += o.ValueReceived
	f.ValueSent += o.ValueSent
	f.CurrencyProblems += o.CurrencyProblems
	f.withID += o.withID
	for r, n := range o.InvalidByReason {
		f.InvalidByReason = bumpReason(f.InvalidByReason, r, n)
	}
	for r, n := range o.RejectedByReason {
		f.RejectedByReason = bumpReason(f.RejectedByReason, r, n)
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// finish computes the derived figures.
func (f *Figures) finish() {
	terminal := f.Delivered + f.Rejected + f.Expired + f.DegradedExported
	f.DeliveryRate = ratio(f.Delivered, terminal)
	f.ErrorRate = ratio(f.Rejected+f.Expired, terminal)
	f.Coverage = make(map[string]float64, numKeyKinds)
	var cov [numKeyKinds]float64
	for i, n := range f.keys {
		cov[i] = ratio(n, f.sent)
		f.Coverage[KeyKindNames[i]] = round4(cov[i])
	}
	if f.sent > 0 {
		f.MatchQualityEstimate = math.Round(MatchQuality(cov)*10) / 10
	}
	f.Freshness = Freshness{
		Samples: f.fresh.t, P50Seconds: round4(f.fresh.quantile(0.50)), P95Seconds: round4(f.fresh.quantile(0.95)),
		P99Seconds:  round4(f.fresh.quantile(0.99)),
		OlderThan1h: round4(ratio(f.old1h, int64(f.fresh.t))), OlderThan24h: round4(ratio(f.old24h, int64(f.fresh.t))),
	}
	f.EventIDShare = round4(ratio(f.withID, f.Valid))
	f.DeliveryRate, f.ErrorRate = round4(f.DeliveryRate), round4(f.ErrorRate)
	f.ValueReceived, f.ValueSent = math.Round(f.ValueReceived*100)/100, math.Round(f.ValueSent*100)/100
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// Point is one window of a trend series.
type Point struct {
	Start     time.Time `json:"start"`
	Received  int64     `json:"received"`
	Invalid   int64     `json:"invalid"`
	Routed    int64     `json:"routed"`
	Delivered int64     `json:"delivered"`
	Rejected  int64     `json:"rejected"`
	Expired   int64     `json:"expired"`
	// MatchQualityEstimate and P95Seconds are per window, for the charts.
	MatchQualityEstimate float64 `json:"match_quality_estimate"`
	P95Seconds           float64 `json:"p95_seconds"`
}

// Breakdown is the figures of one destination, event name or source.
type Breakdown struct {
	Name     string  `json:"name"`
	Figures  Figures `json:"figures"`
	Previous Figures `json:"previous"`
	// Health is set for destinations.
	Health *Health  `json:"health,omitempty"`
	Series []Point  `json:"series,omitempty"`
	Top    []Reason `json:"top_reasons,omitempty"`
}

// Reason is one failure reason with its count and example event ids.
type Reason struct {
	Destination string   `json:"destination,omitempty"`
	Status      string   `json:"status"`
	Reason      string   `json:"reason"`
	Count       int64    `json:"count"`
	Examples    []string `json:"example_event_ids,omitempty"`
}

// Report is what /api/v1/report returns.
type Report struct {
	Generated  time.Time  `json:"generated"`
	Since      time.Time  `json:"since"`
	Until      time.Time  `json:"until"`
	Resolution Resolution `json:"resolution"`
	Filter     struct {
		Destination string `json:"destination,omitempty"`
		EventName   string `json:"event_name,omitempty"`
		Source      string `json:"source,omitempty"`
	} `json:"filter"`
	// Totals covers the period; Previous the period of the same length
	// just before it, for the change.
	Totals       Figures     `json:"totals"`
	Previous     Figures     `json:"previous"`
	Series       []Point     `json:"series"`
	Destinations []Breakdown `json:"destinations"`
	EventNames   []Breakdown `json:"event_names"`
	Sources      []Breakdown `json:"sources"`
	TopReasons   []Reason    `json:"top_reasons"`
	Alerts       []Alert     `json:"alerts"`
	// Notes explain estimates and limits of the figures.
	Notes []string `json:"notes"`
}

// pick chooses the finest resolution whose retention covers since and whose
// series stays readable.
func (a *Aggregator) pick(q Query, now time.Time) Resolution {
	if q.Resolution != "" {
		return q.Resolution
	}
	span := q.Until.Sub(q.Since)
	switch {
	case span <= 3*time.Hour && !q.Since.Before(now.Add(-a.retention.Minutes)):
		return Minute
	case span <= 35*24*time.Hour && !q.Since.Before(now.Add(-a.retention.Hours)):
		return Hour
	}
	return Day
}

func (q Query) matches(k Key) bool {
	return (q.Destination == "" || k.Destination == q.Destination) &&
		(q.EventName == "" || k.EventName == q.EventName) && (q.Source == "" || k.Source == q.Source)
}

// accumulator gathers figures by name.
type accumulator map[string]*Figures

func (m accumulator) at(name string) *Figures {
	f := m[name]
	if f == nil {
		f = &Figures{}
		m[name] = f
	}
	return f
}

// Report builds the report for q. Figures for a destination filter are that
// destination's: records received before routing belong to no destination,
// so Received is then zero and Routed is the inflow.
func (a *Aggregator) Report(q Query) Report {
	now := a.clock()
	if q.Until.IsZero() {
		q.Until = now
	}
	if q.Since.IsZero() {
		q.Since = q.Until.Add(-24 * time.Hour)
	}
	res := a.pick(q, now)
	r := Report{Generated: now, Since: q.Since, Until: q.Until, Resolution: res}
	r.Filter.Destination, r.Filter.EventName, r.Filter.Source = q.Destination, q.EventName, q.Source
	prevSince := q.Since.Add(-q.Until.Sub(q.Since))

	a.mu.RLock()
	defer a.mu.RUnlock()
	s := a.series[slices.Index(Resolutions, res)]
	from, to := truncate(q.Since, res), q.Until
	pfrom := truncate(prevSince, res)
	keys := make([]int64, 0, len(s.windows))
	for k, w := range s.windows {
		if !w.start.Before(pfrom) && w.start.Before(to) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	ws := make([]*window, len(keys))
	for i, k := range keys {
		ws[i] = s.windows[k]
	}
	// Months of windows are scanned in parts, one per core, and merged in
	// window order.
	parts := min(runtime.GOMAXPROCS(0), 4, max(len(ws)/48, 1))
	scans := make([]*scan, parts)
	var wg sync.WaitGroup
	for i := range parts {
		scans[i] = newScan()
		lo, hi := i*len(ws)/parts, (i+1)*len(ws)/parts
		wg.Go(func() { scans[i].windows(ws[lo:hi], q, from) })
	}
	wg.Wait()
	sc := scans[0]
	for _, o := range scans[1:] {
		sc.merge(o)
	}
	r.Totals, r.Previous, r.Series = sc.totals, sc.previous, sc.series
	dests, prevDests, names, prevNames, srcs, prevSrcs := sc.dests, sc.prevDests, sc.names, sc.prevNames, sc.srcs, sc.prevSrcs
	destSeries, reasons := sc.destSeries, sc.reasons
	r.Series = fill(r.Series, from, to, res)
	for d, pts := range destSeries {
		destSeries[d] = fill(pts, from, to, res)
	}
	r.Totals.finish()
	r.Previous.finish()
	for _, rs := range sortedReasons(reasons, 20) {
		rs.Examples = a.examples.get(rs.Destination, rs.Status+":"+rs.Reason)
		r.TopReasons = append(r.TopReasons, rs)
	}
	r.Destinations = breakdowns(dests, prevDests)
	if len(sc.values) > 0 {
		r.Totals.ValueByCurrency = sc.byCurrency()
	}
	for i := range r.Destinations {
		d := &r.Destinations[i]
		if _, ok := sc.values[d.Name]; ok {
			d.Figures.ValueByCurrency = sc.byCurrency(d.Name)
		}
		d.Series = destSeries[d.Name]
		for _, rs := range r.TopReasons {
			if rs.Destination == d.Name && len(d.Top) < 5 {
				d.Top = append(d.Top, rs)
			}
		}
	}
	r.EventNames = breakdowns(names, prevNames)
	r.Sources = breakdowns(srcs, prevSrcs)
	r.Notes = []string{
		"match_quality_estimate is signalpipe's estimate (0–10) from match-key coverage, weighted email 3, phone 2, click id 2, external id 1, fbc/fbp 1, IP+UA 0.6, address 0.4; the platforms' own scores may differ",
		"freshness quantiles are read from a log histogram and are within 5% of the exact value",
		"figures are per outcome time; a destination's received is its routed count",
		"value received and sent add up the amounts as sent, whatever their currency; currency_problems counts values without a valid ISO 4217 code",
	}
	return r
}

// fill returns pts with an empty point for every window from..to that has
// none, so charts show quiet windows as zero rather than skipping them.
func fill(pts []Point, from, to time.Time, res Resolution) []Point {
	out := make([]Point, 0, len(pts))
	i := 0
	for t := from; t.Before(to) && len(out) < 10000; t = next(t, res) {
		if i < len(pts) && pts[i].Start.Equal(t) {
			out = append(out, pts[i])
			i++
			continue
		}
		out = append(out, Point{Start: t})
	}
	return out
}

func next(t time.Time, res Resolution) time.Time {
	if res == Day {
		return t.AddDate(0, 0, 1)
	}
	return t.Add(res.Width())
}

// scan is what a run of windows adds up to.
type scan struct {
	totals, previous                   Figures
	series                             []Point
	dests, prevDests, names, prevNames accumulator
	srcs, prevSrcs                     accumulator
	destSeries                         map[string][]Point
	reasons                            map[[3]string]int64
	// values is the period's value by destination and currency.
	values map[string]map[string]*CurrencyValue
}

func newScan() *scan {
	return &scan{dests: accumulator{}, prevDests: accumulator{}, names: accumulator{}, prevNames: accumulator{},
		srcs: accumulator{}, prevSrcs: accumulator{}, destSeries: map[string][]Point{}, reasons: map[[3]string]int64{},
		values: map[string]map[string]*CurrencyValue{}}
}

// windows adds ws (in time order) to sc: windows before from count for the
// previous period.
func (sc *scan) windows(ws []*window, q Query, from time.Time) {
	for _, w := range ws {
		cur := !w.start.Before(from)
		nameAcc, srcAcc := sc.names, sc.srcs
		if !cur {
			nameAcc, srcAcc = sc.prevNames, sc.prevSrcs
		}
		// Each cell is added to its name, its source and its window (and
		// the window's destination); totals and destination figures are
		// merged from the windows, which is far cheaper than per cell.
		var win Figures
		winDests := accumulator{}
		for k, c := range w.cells {
			if !q.matches(k) {
				continue
			}
			nameAcc.at(k.EventName).add(c)
			srcAcc.at(k.Source).add(c)
			win.add(c)
			if k.Destination != "" {
				winDests.at(k.Destination).add(c)
			}
			if cur && len(c.Reasons) > 0 {
				for rk, n := range c.Reasons {
					sc.reasons[[3]string{k.Destination, string(rk.status), rk.reason}] += n
				}
			}
		}
		if !cur {
			sc.previous.merge(&win)
			for d, f := range winDests {
				sc.prevDests.at(d).merge(f)
			}
			continue
		}
		if q.EventName == "" && q.Source == "" {
			for d, vs := range w.values {
				if q.Destination == "" || d == q.Destination {
					sc.addValues(d, vs)
				}
			}
		}
		sc.totals.merge(&win)
		sc.series = append(sc.series, point(w.start, &win))
		for d, f := range winDests {
			sc.dests.at(d).merge(f)
			sc.destSeries[d] = append(sc.destSeries[d], point(w.start, f))
		}
	}
}

// merge adds o, which covers later windows, to sc.
func (sc *scan) merge(o *scan) {
	sc.totals.merge(&o.totals)
	sc.previous.merge(&o.previous)
	sc.series = append(sc.series, o.series...)
	for _, p := range []struct{ to, from accumulator }{{sc.dests, o.dests}, {sc.prevDests, o.prevDests}, {sc.names, o.names},
		{sc.prevNames, o.prevNames}, {sc.srcs, o.srcs}, {sc.prevSrcs, o.prevSrcs}} {
		for k, f := range p.from {
			p.to.at(k).merge(f)
		}
	}
	for d, pts := range o.destSeries {
		sc.destSeries[d] = append(sc.destSeries[d], pts...)
	}
	for k, n := range o.reasons {
		sc.reasons[k] += n
	}
	for d, m := range o.values {
		for _, v := range m {
			sc.addValues(d, []CurrencyValue{*v})
		}
	}
}

func (sc *scan) addValues(dest string, vs []CurrencyValue) {
	m := sc.values[dest]
	if m == nil {
		m = map[string]*CurrencyValue{}
		sc.values[dest] = m
	}
	for _, v := range vs {
		cv := m[v.Currency]
		if cv == nil {
			cv = &CurrencyValue{Currency: v.Currency}
			m[v.Currency] = cv
		}
		cv.Received += v.Received
		cv.Sent += v.Sent
	}
}

// byCurrency lists the values of the given destinations (all when none),
// largest first, rounded to cents.
func (sc *scan) byCurrency(dests ...string) []CurrencyValue {
	sum := map[string]*CurrencyValue{}
	for d, m := range sc.values {
		if len(dests) > 0 && !slices.Contains(dests, d) {
			continue
		}
		for c, v := range m {
			s := sum[c]
			if s == nil {
				s = &CurrencyValue{Currency: c}
				sum[c] = s
			}
			s.Received += v.Received
			s.Sent += v.Sent
		}
	}
	out := make([]CurrencyValue, 0, len(sum))
	for _, v := range sum {
		out = append(out, CurrencyValue{Currency: v.Currency, Received: math.Round(v.Received*100) / 100, Sent: math.Round(v.Sent*100) / 100})
	}
	slices.SortFunc(out, func(a, b CurrencyValue) int {
		return cmp.Or(cmp.Compare(b.Received, a.Received), cmp.Compare(a.Currency, b.Currency))
	})
	return out
}

func point(start time.Time, f *Figures) Point {
	f.finish()
	return Point{Start: start, Received: f.Received, Invalid: f.Invalid, Routed: f.Routed, Delivered: f.Delivered,
		Rejected: f.Rejected, Expired: f.Expired, MatchQualityEstimate: f.MatchQualityEstimate, P95Seconds: f.Freshness.P95Seconds}
}

func breakdowns(cur, prev accumulator) []Breakdown {
	out := make([]Breakdown, 0, len(cur))
	for name, f := range cur {
		f.finish()
		b := Breakdown{Name: name, Figures: *f}
		if p := prev[name]; p != nil {
			p.finish()
			b.Previous = *p
		} else {
			b.Previous.finish()
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Breakdown) int {
		return cmp.Or(cmp.Compare(b.Figures.Received+b.Figures.Routed, a.Figures.Received+a.Figures.Routed), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func sortedReasons(m map[[3]string]int64, limit int) []Reason {
	out := make([]Reason, 0, len(m))
	for k, n := range m {
		out = append(out, Reason{Destination: k[0], Status: k[1], Reason: k[2], Count: n})
	}
	slices.SortFunc(out, func(a, b Reason) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Destination, b.Destination), cmp.Compare(a.Reason, b.Reason))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// totals returns the finished figures for q without the breakdowns, for
// alert rules.
func (a *Aggregator) totals(q Query) Figures {
	now := a.clock()
	res := a.pick(q, now)
	a.mu.RLock()
	defer a.mu.RUnlock()
	s := a.series[slices.Index(Resolutions, res)]
	from := truncate(q.Since, res)
	var f Figures
	for _, w := range s.windows {
		if w.start.Before(from) || !w.start.Before(q.Until) {
			continue
		}
		for k, c := range w.cells {
			if q.matches(k) {
				f.add(c)
			}
		}
	}
	f.finish()
	return f
}
