package quality

import (
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// TestDegradedEnrichmentCountedAndAmber: events the process stage routed
// without state are counted per destination and turn its health amber, so
// a user sees that conversions went out unenriched.
func TestDegradedEnrichmentCountedAndAmber(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0}
	a := NewAggregator(AggregatorOptions{Clock: clk.Now})
	at := t0.Add(-10 * time.Minute)
	delivered := map[string]event.Outcome{"meta": {Status: event.StatusDelivered, Degraded: event.DegradedStateUnavailable}}
	degraded := pipeline("web/0/1", "e1", "purchase", at, delivered)
	degraded[0].Degraded = event.DegradedStateUnavailable
	for _, o := range append(degraded, pipeline("web/0/2", "e2", "purchase", at, map[string]event.Outcome{"meta": {Status: event.StatusDelivered}})...) {
		a.Add(o)
	}
	r := a.Report(Query{Since: t0.Add(-time.Hour), Until: t0.Add(time.Minute)})
	if r.Totals.DegradedEnrichment != 1 || r.Totals.Routed != 2 {
		t.Errorf("totals: degraded enrichment %d of %d routed, want 1 of 2", r.Totals.DegradedEnrichment, r.Totals.Routed)
	}
	if len(r.Destinations) != 1 || r.Destinations[0].Figures.DegradedEnrichment != 1 {
		t.Fatalf("destinations = %+v, want meta with one degraded", r.Destinations)
	}
	h := assess(r.Destinations[0].Figures, "closed", nil, "meta")
	if h.Level != Amber || len(h.Reasons) != 1 || !strings.Contains(h.Reasons[0], "without enrichment") {
		t.Errorf("health = %+v, want amber for the degraded event", h)
	}
}
