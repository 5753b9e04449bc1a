package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
)

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	m, err := New(Options{
		Breakers:    func() map[string]string { return map[string]string{"meta": "open", "hook": "closed"} },
		Lag:         func() map[string]int64 { return map[string]int64{"signalpipe-ingest": 42} },
		Validations: func() (uint64, uint64) { return 97, 3 },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	m.OnCommit("ingest", 100, 130)
	m.OnCommit("ingest", 50, 60)
	at := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	m.Outcome(event.Outcome{Record: "t/0/1", EventID: "secret-event-id", Destination: "meta", Status: event.StatusDelivered, Attempts: 3, EventTime: at.Add(-2 * time.Second), At: at})
	m.Outcome(event.Outcome{Record: "t/0/2", Status: event.StatusInvalid, Reason: "malformed_json", At: at})
	m.Outcome(event.Outcome{Record: "t/0/3", EventID: "e3", Status: event.StatusRouted, Destinations: []string{"meta"}, Degraded: event.DegradedStateError, At: at})
	body := scrape(t, m.Handler())
	tests := []struct{ name, pattern string }{
		{"consumed per stage", `signalpipe_stage_records_consumed_total\{stage="ingest"\} 150`},
		{"produced per stage", `signalpipe_stage_records_produced_total\{stage="ingest"\} 190`},
		{"batch sizes", `signalpipe_stage_batch_size_count\{stage="ingest"\} 2`},
		{"breaker open", `signalpipe_breaker_state\{destination="meta"\} 2`},
		{"breaker closed", `signalpipe_breaker_state\{destination="hook"\} 0`},
		{"lag", `signalpipe_consumer_lag\{group="signalpipe-ingest"\} 42`},
		{"retries", `signalpipe_delivery_retries_total\{destination="meta"\} 2`},
		{"outcomes by status", `signalpipe_outcomes_total\{destination="meta",stage="deliver",status="delivered"\} 1`},
		{"ingest outcome", `signalpipe_outcomes_total\{destination="",stage="ingest",status="invalid"\} 1`},
		{"validations on the fast path", `signalpipe_ingest_validations_total\{path="fast"\} 97`},
		{"validations in the library", `signalpipe_ingest_validations_total\{path="library"\} 3`},
		{"degraded by reason", `signalpipe_process_degraded_total\{reason="state_error"\} 1`},
		{"latency", `signalpipe_outcome_latency_seconds_bucket\{destination="meta",stage="deliver",le="2.5"\} 1`},
	}
	for _, tt := range tests {
		if !regexp.MustCompile(tt.pattern).MatchString(body) {
			t.Errorf("%s: /metrics lacks %s", tt.name, tt.pattern)
		}
	}
	if strings.Contains(body, "secret-event-id") {
		t.Error("an event id reached a metric label")
	}
}

func TestLagPollerReadsKafka(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for range 10 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("in"), kgo.DisableAutoCommit(), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []*kgo.Record
	for len(got) < 10 && ctx.Err() == nil {
		got = append(got, cons.PollFetches(ctx).Records()...)
	}
	if err := cons.CommitRecords(ctx, got[3]); err != nil { // offsets 0–3 done: lag 6
		t.Fatal(err)
	}
	p := &LagPoller{Admin: kadm.NewClient(prod), Groups: []string{"g"}, Interval: 20 * time.Millisecond}
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	go p.Run(pctx)
	for p.Lag()["g"] != 6 {
		select {
		case <-ctx.Done():
			t.Fatalf("lag = %v (err %v), want g: 6", p.Lag(), p.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if p.Err() != nil {
		t.Errorf("err = %v", p.Err())
	}
}
