package quality

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// thirtyDays fills a Monitor with 30 days of hourly aggregates for 10
// destinations × 50 event names: every hour, every (destination, event
// name) gets routed events, deliveries with match keys and freshness, and
// a rejection.
func thirtyDays(b *testing.B) (*Monitor, time.Time) {
	b.Helper()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	m := NewMonitor(Config{TraceEvents: 1000}, MonitorOptions{Clock: func() time.Time { return now }})
	dests := make([]string, 10)
	for i := range dests {
		dests[i] = fmt.Sprintf("dest-%02d", i)
	}
	keys := [][]string{{"em", "ph", "fbc"}, {"email_sha256", "gclid"}, {"client_ip_address", "client_user_agent"}}
	for h := 30 * 24; h > 0; h-- {
		at := now.Add(-time.Duration(h) * time.Hour)
		for n := range 50 {
			name := fmt.Sprintf("event_%02d", n)
			m.Agg.Add(event.Outcome{Record: "r", EventID: "e", EventName: name, Source: event.SourceWeb, Status: event.StatusRouted, Destinations: dests, At: at})
			for i, d := range dests {
				v := float64(10 + i)
				m.Agg.Add(event.Outcome{Record: "r", EventID: "e", EventName: name, Source: event.SourceWeb, Destination: d, Status: event.StatusDelivered,
					EventTime: at.Add(-time.Duration(i+n) * time.Minute), MatchKeys: keys[(i+n)%3], Value: &v, Currency: "EUR", At: at})
				if n%5 == 0 {
					m.Agg.Add(event.Outcome{Record: "r", EventID: "x", EventName: name, Source: event.SourceWeb, Destination: d, Status: event.StatusRejected, Reason: "invalid_parameter", At: at})
				}
			}
		}
	}
	return m, now
}

// BenchmarkReport30Days is the report the page asks for over a month:
// 720 hourly windows of 500+ cells each.
func BenchmarkReport30Days(b *testing.B) {
	m, now := thirtyDays(b)
	q := Query{Since: now.Add(-30 * 24 * time.Hour), Until: now}
	b.ResetTimer()
	for b.Loop() {
		r := m.Report(q)
		if r.Resolution != Hour || len(r.Destinations) != 10 || len(r.EventNames) != 50 {
			b.Fatalf("report: %s, %d destinations, %d names", r.Resolution, len(r.Destinations), len(r.EventNames))
		}
	}
}

// BenchmarkReportAPI30Days is the same through HTTP and JSON, as the page
// and `signalpipe report` get it.
func BenchmarkReportAPI30Days(b *testing.B) {
	m, now := thirtyDays(b)
	srv := httptest.NewServer((&Server{Monitor: m, Clock: func() time.Time { return now }, Status: func() Status { return Status{} }}).Handler())
	defer srv.Close()
	b.ResetTimer()
	for b.Loop() {
		resp, err := srv.Client().Get(srv.URL + "/api/v1/report?since=720h")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		b.ReportMetric(float64(n)/1024, "KiB/op")
	}
}

// BenchmarkMonitorAdd is the quality stage's cost per outcome (every
// replica reads all of sp.outcomes, so it must keep up with all of them).
func BenchmarkMonitorAdd(b *testing.B) {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	m := NewMonitor(Config{}, MonitorOptions{Clock: func() time.Time { return now }})
	outs := make([]event.Outcome, 1000)
	for i := range outs {
		v := 12.5
		outs[i] = event.Outcome{Record: "r", EventID: fmt.Sprintf("e-%d", i), EventName: fmt.Sprintf("event_%02d", i%50), Source: event.SourceApp,
			Destination: fmt.Sprintf("dest-%d", i%10), Status: event.StatusDelivered, EventTime: now.Add(-time.Duration(i) * time.Second),
			MatchKeys: []string{"em", "ph", "client_ip_address", "client_user_agent"}, Value: &v, Currency: "USD", At: now.Add(-time.Duration(i%3600) * time.Second)}
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		m.Add(outs[i%len(outs)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "outcomes/s")
}
