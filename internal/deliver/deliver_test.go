package deliver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// crmEvent is a valid CRM conversion at time at.
func crmEvent(id string, at time.Time) demo.Record {
	return demo.Record{Topic: demo.TopicCRM, Key: []byte(id), Value: []byte(fmt.Sprintf(
		`{"event_id":%q,"event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"%s@example.com"},"properties":{"value":10,"currency":"USD"}}`,
		id, at.UTC().Format(time.RFC3339), id))}
}

// start runs a stack whose Meta batches hold everything produced at once.
func start(t *testing.T, tune func(*config.Config)) (*demo.Stack, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true, Tune: func(c *config.Config) {
		c.Destinations[0].Meta.Linger = time.Second
		c.Deliver.InitialBackoff = 20 * time.Millisecond
		c.Deliver.MaxBackoff = 100 * time.Millisecond
		if tune != nil {
			tune(c)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, ctx
}

// deliverAll produces n CRM events named prefix-i and returns their
// per-destination outcomes once every record has its outcome.
func deliverAll(t *testing.T, ctx context.Context, st *demo.Stack, prefix string, n int) map[string]event.Outcome {
	t.Helper()
	var recs []demo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, crmEvent(fmt.Sprintf("%s-%d", prefix, i), time.Now().Add(-time.Minute)))
	}
	inputs, err := st.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WaitBalanced(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	return outcomes(t, ctx, st, n)
}

// outcomes reads sp.outcomes (committed records) until want records or ctx.
func outcomes(t *testing.T, ctx context.Context, st *demo.Stack, want int) map[string]event.Outcome {
	t.Helper()
	base, _ := st.Config.Kafka.ClientOpts()
	cl, err := kgo.NewClient(append(base, kgo.ConsumeTopics(st.Config.Kafka.Topics().Outcomes()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[string]event.Outcome{}
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d outcomes: %v", len(out), want, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			var o event.Outcome
			if err := json.Unmarshal(r.Value, &o); err == nil && o.Destination != "" {
				out[o.EventID] = o
			}
		})
	}
	return out
}

// dlq reads dead-letter records until want or ctx.
func dlq(t *testing.T, ctx context.Context, st *demo.Stack, want int) []*kgo.Record {
	t.Helper()
	base, _ := st.Config.Kafka.ClientOpts()
	cl, err := kgo.NewClient(append(base, kgo.ConsumeTopics(st.Config.Kafka.Topics().DLQ()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d DLQ records: %v", len(out), want, ctx.Err())
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// TestBadEventIsIsolated: Meta rejects a whole batch for one bad event; the
// stage splits the batch until the bad event stands alone, so the others
// are delivered and only it is rejected — with Meta's reason, and kept in
// the DLQ.
func TestBadEventIsIsolated(t *testing.T) {
	t.Parallel()
	st, ctx := start(t, nil)
	now := time.Now()
	var recs []demo.Record
	for i := 0; i < 40; i++ {
		recs = append(recs, crmEvent(fmt.Sprintf("ok-%d", i), now.Add(-time.Hour)))
	}
	// Five minutes ahead: within ingest's skew allowance, but Meta refuses
	// events from the future, and with them the whole request.
	recs[17] = crmEvent("future", now.Add(5*time.Minute))
	inputs, err := st.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WaitBalanced(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	outs := outcomes(t, ctx, st, len(recs))
	for id, o := range outs {
		want := event.StatusDelivered
		if id == "future" {
			want = event.StatusRejected
		}
		if o.Status != want {
			t.Errorf("%s: %s (%s), want %s", id, o.Status, o.Reason, want)
		}
	}
	if o := outs["future"]; o.Reason != "invalid_parameter" || o.PlatformRef == "" {
		t.Errorf("rejected outcome = %+v, want Meta's reason and fbtrace id", o)
	}
	if got := len(st.Sandbox.Meta().Events()); got != 39 {
		t.Errorf("sandbox accepted %d events, want 39", got)
	}
	d := dlq(t, ctx, st, 1)
	if kafkax.Header(d[0], kafkax.HeaderReason) != "invalid_parameter" || kafkax.Header(d[0], kafkax.HeaderSourceTopic) != demo.TopicCRM || kafkax.Header(d[0], kafkax.HeaderDestination) != "meta" {
		t.Errorf("DLQ headers = %v", d[0].Headers)
	}
}

// TestRetryInPlace: a burst of 503s is retried with backoff and every event
// is delivered once the platform answers again.
func TestRetryInPlace(t *testing.T) {
	t.Parallel()
	st, ctx := start(t, nil)
	st.Sandbox.SetFault("meta", sandbox.Fault{Status: 503, Requests: 3})
	const n = 25
	outs := deliverAll(t, ctx, st, "r", n)
	retried := 0
	for id, o := range outs {
		if o.Status != event.StatusDelivered {
			t.Errorf("%s: %s %s", id, o.Status, o.Reason)
		}
		if o.Attempts > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Error("no outcome records a retry, though the first requests failed")
	}
	if s := st.Sandbox.Meta().Stats(); s.Faulted != 3 || s.Accepted != n {
		t.Errorf("sandbox stats = %+v", s)
	}
}

// TestBadTokenIsRejectedWithoutStorm: a credential error is permanent for
// every event of the batch (it needs a person), and the batch is not split
// into a request per event.
func TestBadTokenIsRejectedWithoutStorm(t *testing.T) {
	t.Parallel()
	st, ctx := start(t, func(c *config.Config) { c.Destinations[0].Meta.PixelID = "999" })
	for id, o := range deliverAll(t, ctx, st, "a", 16) {
		if o.Status != event.StatusRejected || o.Reason != "auth_error" {
			t.Errorf("%s: %s %s, want rejected auth_error", id, o.Status, o.Reason)
		}
	}
	if s := st.Sandbox.Meta().Stats(); s.Requests > 4 {
		t.Errorf("%d requests for one batch with a bad token; want no per-event split", s.Requests)
	}
}

// TestDegradedEnrichmentReachesTheOutcome: an event the process stage
// handled without state says so in its delivered outcome, so the report
// can count what went out unenriched; an enriched one says nothing.
func TestDegradedEnrichmentReachesTheOutcome(t *testing.T) {
	t.Parallel()
	st, ctx := start(t, nil)
	at := time.Now().Add(-time.Minute).UTC()
	var recs []demo.Record
	for i, degraded := range []string{event.DegradedStateUnavailable, ""} {
		ev := event.Event{EventID: fmt.Sprintf("deg-%d", i), EventName: event.NameClosedDeal, EventTime: at, Source: event.SourceCRM,
			User: event.User{Email: "deg@example.com"}, Origin: event.Origin{Topic: demo.TopicCRM, Offset: int64(1000 + i)}}
		if degraded != "" {
			ev.Enrichment = &event.Enrichment{Degraded: degraded}
		}
		v, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, demo.Record{Topic: st.Config.Kafka.Topics().Out("meta"), Key: []byte(ev.EventID), Value: v})
	}
	if _, err := st.Produce(ctx, recs); err != nil {
		t.Fatal(err)
	}
	outs := outcomes(t, ctx, st, len(recs))
	for id, want := range map[string]string{"deg-0": event.DegradedStateUnavailable, "deg-1": ""} {
		if o := outs[id]; o.Status != event.StatusDelivered || o.Degraded != want {
			t.Errorf("%s: %s degraded %q, want delivered with degraded %q", id, o.Status, o.Degraded, want)
		}
	}
}
