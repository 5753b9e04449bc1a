package quality

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// fakeClock is a settable clock for the aggregator and alerts.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func val(v float64) *float64 { return &v }

// pipeline returns the outcomes of one event that is routed to dests and then
// ends there with status.
func pipeline(rec, id, name string, at time.Time, dests map[string]event.Outcome) []event.Outcome {
	var names []string
	for d := range dests {
		names = append(names, d)
	}
	out := []event.Outcome{{Record: rec, EventID: id, EventName: name, Source: event.SourceWeb, Status: event.StatusRouted, Destinations: names, At: at}}
	for d, o := range dests {
		o.Record, o.EventID, o.EventName, o.Source, o.Destination = rec, id, name, event.SourceWeb, d
		if o.At.IsZero() {
			o.At = at
		}
		out = append(out, o)
	}
	return out
}

func TestAggregatorFigures(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0}
	a := NewAggregator(AggregatorOptions{Clock: clk.Now})
	var outs []event.Outcome
	// Four purchases delivered to meta: 30 s, 2 min, 2 h and 30 h after the
	// event; two carry email, one carries IP and UA, one a click id.
	lags := []time.Duration{30 * time.Second, 2 * time.Minute, 2 * time.Hour, 30 * time.Hour}
	keys := [][]string{{"em", "ph"}, {"em", "client_ip_address", "client_user_agent"}, {"fbc", "fbp"}, {"gclid"}}
	for i, lag := range lags {
		at := t0.Add(-10 * time.Minute)
		outs = append(outs, pipeline("web/0/"+string(rune('a'+i)), "e"+string(rune('a'+i)), "purchase", at, map[string]event.Outcome{
			"meta": {Status: event.StatusDelivered, EventTime: at.Add(-lag), MatchKeys: keys[i], Value: val(10), Currency: "EUR", Attempts: 1 + i%2},
		})...)
	}
	// One rejected with a reason, one expired, one invalid, one consent
	// suppression, one dedupe, one without an event id.
	outs = append(outs, pipeline("web/0/r", "er", "purchase", t0.Add(-5*time.Minute), map[string]event.Outcome{
		"meta": {Status: event.StatusRejected, Reason: "invalid_parameter", MatchKeys: []string{"em"}, Value: val(5), Currency: "eur"},
	})...)
	outs = append(outs, pipeline("web/0/x", "ex", "lead", t0.Add(-5*time.Minute), map[string]event.Outcome{
		"meta": {Status: event.StatusExpired, Reason: "too_old"},
	})...)
	outs = append(outs,
		event.Outcome{Record: "web/0/i", Source: event.SourceWeb, Status: event.StatusInvalid, Reason: "schema_violation", At: t0.Add(-time.Minute)},
		event.Outcome{Record: "web/0/c", EventID: "ec", EventName: "lead", Source: event.SourceWeb, Status: event.StatusSuppressed, Reason: "consent_denied", At: t0.Add(-time.Minute)},
		event.Outcome{Record: "web/0/d", EventID: "ed", EventName: "lead", Source: event.SourceWeb, Status: event.StatusDeduplicated, Reason: "duplicate_event_id", At: t0.Add(-time.Minute)},
		event.Outcome{Record: "web/0/n", EventName: "lead", Source: event.SourceWeb, Status: event.StatusSuppressed, Reason: "no_route", At: t0.Add(-time.Minute)},
	)
	for _, o := range outs {
		a.Add(o)
	}
	r := a.Report(Query{Since: t0.Add(-time.Hour), Until: t0.Add(time.Minute)})
	f := r.Totals
	checks := []struct {
		name      string
		got, want float64
	}{
		{"received", float64(f.Received), 10},
		{"valid", float64(f.Valid), 9},
		{"invalid", float64(f.Invalid), 1},
		{"invalid by reason", float64(f.InvalidByReason["schema_violation"]), 1},
		{"deduplicated", float64(f.Deduplicated), 1},
		{"consent suppressed", float64(f.ConsentSuppressed), 1},
		{"suppressed (no route)", float64(f.Suppressed), 1},
		{"routed", float64(f.Routed), 6},
		{"delivered", float64(f.Delivered), 4},
		{"rejected", float64(f.Rejected), 1},
		{"rejected by reason", float64(f.RejectedByReason["invalid_parameter"]), 1},
		{"expired", float64(f.Expired), 1},
		{"retried", float64(f.Retried), 2},
		{"delivery rate", f.DeliveryRate, 4.0 / 6},
		{"error rate", f.ErrorRate, 2.0 / 6},
		// sent = 4 delivered + 1 rejected with keys
		{"email coverage", f.Coverage["email"], 3.0 / 5},
		{"ip+ua coverage", f.Coverage["ip_ua"], 1.0 / 5},
		{"click id coverage", f.Coverage["click_id"], 1.0 / 5},
		{"fbc/fbp coverage", f.Coverage["fbc_fbp"], 1.0 / 5},
		{"share older than 1h", f.Freshness.OlderThan1h, 2.0 / 4},
		{"share older than 24h", f.Freshness.OlderThan24h, 1.0 / 4},
		{"value received", f.ValueReceived, 45},
		{"value sent", f.ValueSent, 40},
		{"currency problems (lowercase eur)", float64(f.CurrencyProblems), 1},
		// 8 valid events with an id of 9 valid (the no_route one has none)
		{"event id share", f.EventIDShare, 8.0 / 9},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-3 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	wantCur := []CurrencyValue{{"EUR", 40, 40}, {"eur", 5, 0}}
	if len(f.ValueByCurrency) != 2 || f.ValueByCurrency[0] != wantCur[0] || f.ValueByCurrency[1] != wantCur[1] {
		t.Errorf("value by currency = %+v, want %+v", f.ValueByCurrency, wantCur)
	}
	if d := r.Destinations[0].Figures.ValueByCurrency; len(d) != 2 || d[0] != wantCur[0] {
		t.Errorf("meta's value by currency = %+v", d)
	}
	// Quantiles: the p50 of {30s, 2m, 2h, 30h} is 2m (rank 2), p99 30h,
	// each within the sketch's 5%.
	within := func(name string, got, want float64) {
		if math.Abs(got-want)/want > 0.05 {
			t.Errorf("%s = %vs, want %vs ±5%%", name, got, want)
		}
	}
	within("p50", f.Freshness.P50Seconds, 120)
	within("p99", f.Freshness.P99Seconds, 30*3600)
	// Coverage email .6, phone .2, click id .2, fbc/fbp .2, IP+UA .2 with
	// weights 3, 2, 2, 1, 0.6 of 10: 10 × 2.92 / 10, rounded to 2.9.
	if f.MatchQualityEstimate != 2.9 {
		t.Errorf("match quality = %v, want 2.9", f.MatchQualityEstimate)
	}
	if len(r.Destinations) != 1 || r.Destinations[0].Name != "meta" || r.Destinations[0].Figures.Routed != 6 {
		t.Fatalf("destinations = %+v", r.Destinations)
	}
	if len(r.TopReasons) == 0 {
		t.Fatal("no top reasons")
	}
	var found bool
	for _, rs := range r.TopReasons {
		if rs.Destination == "meta" && rs.Reason == "invalid_parameter" {
			found = len(rs.Examples) == 1 && rs.Examples[0] == "er"
		}
	}
	if !found {
		t.Errorf("top reasons lack meta invalid_parameter with example er: %+v", r.TopReasons)
	}
}

func TestAggregatorWindowsAndRetention(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0}
	a := NewAggregator(AggregatorOptions{Clock: clk.Now, Retention: Retention{Minutes: 2 * time.Hour, Hours: 48 * time.Hour, Days: 10 * 24 * time.Hour}})
	add := func(at time.Time) {
		a.Add(event.Outcome{Record: at.String(), EventName: "lead", Source: event.SourceCRM, Status: event.StatusInvalid, Reason: "r", At: at})
	}
	// One record per hour for three days before t0.
	for h := 72; h >= 1; h-- {
		add(t0.Add(-time.Duration(h) * time.Hour))
	}
	tests := []struct {
		name         string
		q            Query
		wantRes      Resolution
		wantReceived int64
		wantPrev     int64
	}{
		{"last 2 hours by minute", Query{Since: t0.Add(-2 * time.Hour), Until: t0}, Minute, 2, 0},
		{"last day by hour", Query{Since: t0.Add(-24 * time.Hour), Until: t0}, Hour, 24, 24},
		// From 12:00 three days ago: the day window holds its 12 records 12:00–23:00.
		{"a day beyond hour retention reads days", Query{Since: t0.Add(-72 * time.Hour), Until: t0.Add(-60 * time.Hour)}, Day, 12, 0},
		{"filter matches nothing", Query{Since: t0.Add(-24 * time.Hour), Until: t0, Source: "web"}, Hour, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Report(tt.q)
			if r.Resolution != tt.wantRes || r.Totals.Received != tt.wantReceived {
				t.Errorf("resolution %s received %d, want %s %d", r.Resolution, r.Totals.Received, tt.wantRes, tt.wantReceived)
			}
			if tt.wantRes == Hour && r.Previous.Received != tt.wantPrev {
				t.Errorf("previous = %d, want %d", r.Previous.Received, tt.wantPrev)
			}
		})
	}
	// Time passes: the minute windows of three hours ago are evicted, the
	// hour windows are not.
	clk.Add(3 * time.Hour)
	a.Prune()
	a.mu.RLock()
	nMin, nHour := len(a.series[0].windows), len(a.series[1].windows)
	a.mu.RUnlock()
	if nMin != 0 || nHour != 45 {
		t.Errorf("after 3h: %d minute windows, %d hour windows; want 0 and 45", nMin, nHour)
	}
}

func TestAggregatorMaxCells(t *testing.T) {
	t.Parallel()
	a := NewAggregator(AggregatorOptions{Clock: func() time.Time { return t0 }, MaxCells: 10})
	for i := range 50 {
		a.Add(event.Outcome{Record: "r", EventName: "name" + string(rune('A'+i)), Source: event.SourceApp, Status: event.StatusInvalid, At: t0})
	}
	r := a.Report(Query{Since: t0.Add(-time.Hour), Until: t0.Add(time.Minute)})
	if r.Totals.Received != 50 || len(r.EventNames) != 11 {
		t.Errorf("received %d in %d names; want 50 in 10 + other", r.Totals.Received, len(r.EventNames))
	}
}

func TestSketchQuantiles(t *testing.T) {
	t.Parallel()
	var s sketch
	for i := 1; i <= 1000; i++ {
		s.add(float64(i)) // 1 … 1000 s
	}
	var d dense
	d.merge(s)
	for _, tt := range []struct{ q, want float64 }{{0.5, 500}, {0.95, 950}, {0.99, 990}} {
		if got := d.quantile(tt.q); math.Abs(got-tt.want)/tt.want > 0.05 {
			t.Errorf("q%.2f = %v, want %v ±5%%", tt.q, got, tt.want)
		}
	}
	if len(s) > 80 {
		t.Errorf("sketch of 1000 values spanning 3 decades has %d entries", len(s))
	}
}

// TestReportPartsAgree checks that a report scanned in parts (months of
// windows, one part per core) adds up to the same figures as one pass.
func TestReportPartsAgree(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0}
	a := NewAggregator(AggregatorOptions{Clock: clk.Now})
	for h := 20 * 24; h > 0; h-- {
		at := t0.Add(-time.Duration(h) * time.Hour)
		for d := range 3 {
			dest := string(rune('a' + d))
			a.Add(event.Outcome{Record: "r", EventID: "e", EventName: "lead", Source: event.SourceWeb, Status: event.StatusRouted, Destinations: []string{dest}, At: at})
			st := event.StatusDelivered
			if h%7 == 0 {
				st = event.StatusRejected
			}
			a.Add(event.Outcome{Record: "r", EventID: "e", EventName: "lead", Source: event.SourceWeb, Destination: dest, Status: st, Reason: "x",
				EventTime: at.Add(-time.Duration(h) * time.Second), MatchKeys: []string{"em"}, Value: val(float64(h)), Currency: "EUR", At: at})
		}
	}
	q := Query{Since: t0.Add(-10 * 24 * time.Hour), Until: t0}
	r := a.Report(q)
	one := a.totals(q)
	prev := a.totals(Query{Since: t0.Add(-20 * 24 * time.Hour), Until: q.Since})
	if r.Totals.Delivered != one.Delivered || r.Totals.Rejected != one.Rejected || r.Totals.ValueSent != one.ValueSent ||
		r.Totals.Freshness != one.Freshness || r.Previous.Delivered != prev.Delivered || r.Totals.Received != 720 {
		t.Errorf("parts %+v\none pass %+v", r.Totals, one)
	}
	if len(r.Series) != 240 || !r.Series[0].Start.Equal(truncate(q.Since, Hour)) {
		t.Errorf("series of %d points from %v", len(r.Series), r.Series[0].Start)
	}
	for i := 1; i < len(r.Series); i++ {
		if !r.Series[i].Start.After(r.Series[i-1].Start) {
			t.Fatalf("series out of order at %d", i)
		}
	}
	for _, d := range r.Destinations {
		if len(d.Series) != 240 || d.Figures.Routed != 240 {
			t.Errorf("destination %s: %d points, %d routed", d.Name, len(d.Series), d.Figures.Routed)
		}
	}
}

// TestMatchKeyKinds folds every destination's match-key names (as their
// MatchKeys functions report them) into the report's kinds.
func TestMatchKeyKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform string
		keys     []string
		want     []string
	}{
		{"meta", []string{"em", "ph", "external_id", "client_ip_address", "client_user_agent", "fbc", "fbp", "ct", "zp"}, []string{"email", "phone", "external_id", "fbc_fbp", "ip_ua", "address"}},
		{"meta, IP without user agent", []string{"client_ip_address"}, nil},
		{"webhook", []string{"email_sha256", "phone_sha256", "external_id_sha256", "gclid", "fbp", "city_sha256"}, []string{"email", "phone", "external_id", "click_id", "fbc_fbp", "address"}},
		{"linkedin", []string{"SHA256_EMAIL", "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", "ACXIOM_ID", "userInfo"}, []string{"email", "external_id", "click_id", "address"}},
		{"reddit", []string{"click_id", "email", "phone_number", "external_id", "ip_address", "user_agent"}, []string{"email", "phone", "external_id", "click_id", "ip_ua"}},
		{"microsoft", []string{"msclkid", "em", "ph", "externalId", "clientIpAddress", "clientUserAgent"}, []string{"email", "phone", "external_id", "click_id", "ip_ua"}},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			t.Parallel()
			set := kindsOf(tt.keys)
			var got []string
			for i, n := range KeyKindNames {
				if set&(1<<i) != 0 {
					got = append(got, n)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("kinds of %v = %v, want %v", tt.keys, got, tt.want)
			}
		})
	}
}
