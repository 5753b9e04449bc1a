package deliver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/deliver"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// later is a platform that answers "retry later" per event, a set number of
// times per event id, as Google Ads does with TOO_RECENT_*. No sandbox
// platform answers per event like that, so the test brings its own.
type later struct {
	mu    sync.Mutex
	fails map[string]int
	after time.Duration
	sends int
}

func (l *later) Name() string { return "later" }
func (l *later) Limits() destination.Limits {
	return destination.Limits{MaxBatch: 10, MaxEventAge: func(*event.Event) time.Duration { return 24 * time.Hour }}
}
func (l *later) Prepare(ev *event.Event) (destination.Prepared, error) {
	return destination.Prepared{Event: ev, Payload: []byte(`"` + ev.EventID + `"`)}, nil
}
func (l *later) Send(_ context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sends++
	res := make([]destination.Result, len(batch))
	for i, p := range batch {
		if l.fails[p.Event.EventID] > 0 {
			l.fails[p.Event.EventID]--
			res[i] = destination.Result{Status: destination.Retry, Reason: "too_recent", Detail: "conversion is too recent", RetryAfter: l.after}
			continue
		}
		res[i] = destination.Result{Status: destination.Delivered}
	}
	return res, nil
}
func (l *later) Close() error { return nil }

// collect runs one Handle and returns what it produced, by topic.
func collect(t *testing.T, st *deliver.Stage, recs ...*kgo.Record) map[string][]*kgo.Record {
	t.Helper()
	got := map[string][]*kgo.Record{}
	out := kafkax.NewOutput(func(r *kgo.Record, promise func(*kgo.Record, error)) {
		got[r.Topic] = append(got[r.Topic], r)
		promise(r, nil)
	})
	if err := st.Handle(context.Background(), recs, out); err != nil {
		t.Fatal(err)
	}
	return got
}

func outcomesOf(t *testing.T, recs []*kgo.Record) []event.Outcome {
	t.Helper()
	var out []event.Outcome
	for _, r := range recs {
		var o event.Outcome
		if err := json.Unmarshal(r.Value, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

// TestRetryTiers follows one event the platform keeps asking for later
// through every tier: it waits in each until due (requeued if read early),
// moves on to the next, and is rejected with a dead-letter record past the
// last; another event in the same batch is delivered at once.
func TestRetryTiers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dest := &later{fails: map[string]int{"slow": 100}, after: 45 * time.Second}
	topics := kafkax.Topics{Prefix: "sp."}
	st := deliver.New(dest, topics, deliver.Config{
		InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxRetryElapsed: time.Second, Concurrency: 1,
		Breaker: deliver.BreakerConfig{Failures: 5, OpenFor: time.Second, MaxOpenFor: time.Second},
		Tiers:   []time.Duration{30 * time.Second, 5 * time.Minute, time.Hour},
	}, clock, nil)
	if want := []string{"sp.retry.later.30s", "sp.retry.later.5m", "sp.retry.later.1h"}; strings.Join(st.RetryTopics(), ",") != strings.Join(want, ",") {
		t.Fatalf("retry topics %v, want %v", st.RetryTopics(), want)
	}
	rec := func(id string) *kgo.Record {
		v, _ := json.Marshal(event.Event{EventID: id, EventName: "purchase", EventTime: now.Add(-time.Hour), Origin: event.Origin{Topic: "events.web", Offset: 7}})
		return &kgo.Record{Topic: "sp.out.later", Value: v}
	}

	// First send: "fast" is delivered, "slow" waits. Retry-After is 45s,
	// longer than the 30s tier, so it goes to the 5m tier.
	got := collect(t, st, rec("fast"), rec("slow"))
	outs := outcomesOf(t, got["sp.outcomes"])
	if len(outs) != 2 || outs[0].EventID != "fast" || outs[0].Status != event.StatusDelivered || outs[1].Status != event.StatusRetrying || outs[1].Reason != "too_recent" {
		t.Fatalf("outcomes %+v, want fast delivered and slow retrying", outs)
	}
	if len(got["sp.retry.later.30s"]) != 0 || len(got["sp.retry.later.5m"]) != 1 {
		t.Fatalf("retry records %v, want one in the 5m tier", keys(got))
	}
	r := got["sp.retry.later.5m"][0]
	if kafkax.Header(r, deliver.HeaderDue) != now.Add(5*time.Minute).Format(time.RFC3339Nano) || kafkax.Header(r, deliver.HeaderTier) != "1" ||
		kafkax.Header(r, deliver.HeaderLastReason) != "too_recent" || kafkax.Header(r, deliver.HeaderFirstFailure) != now.Format(time.RFC3339Nano) {
		t.Errorf("retry headers %+v", r.Headers)
	}
	if string(r.Key) != "slow" {
		t.Errorf("retry record key %q, want the event id", r.Key)
	}
	attempts := kafkax.Header(r, deliver.HeaderAttempts)

	// Read a minute early: requeued unchanged, nothing sent.
	now = now.Add(4 * time.Minute)
	sends := dest.sends
	r.Topic = "sp.retry.later.5m"
	got = collect(t, st, r)
	if dest.sends != sends || len(got["sp.retry.later.5m"]) != 1 || len(got["sp.outcomes"]) != 0 {
		t.Fatalf("early read: %d sends, produced %v; want a requeue only", dest.sends-sends, keys(got))
	}
	if again := got["sp.retry.later.5m"][0]; string(again.Value) != string(r.Value) || kafkax.Header(again, deliver.HeaderDue) != kafkax.Header(r, deliver.HeaderDue) {
		t.Error("the requeued record differs from the one read")
	}

	// Due: sent again, still too recent: the 1h tier, attempts counted on.
	now = now.Add(time.Minute)
	got = collect(t, st, r)
	if len(got["sp.retry.later.1h"]) != 1 {
		t.Fatalf("produced %v, want the 1h tier", keys(got))
	}
	r = got["sp.retry.later.1h"][0]
	if a := kafkax.Header(r, deliver.HeaderAttempts); a <= attempts {
		t.Errorf("attempts %s after %s: not counted on", a, attempts)
	}
	if kafkax.Header(r, deliver.HeaderFirstFailure) != now.Add(-5*time.Minute).Format(time.RFC3339Nano) {
		t.Errorf("first failure moved: %s", kafkax.Header(r, deliver.HeaderFirstFailure))
	}

	// Past the last tier: rejected, with a dead-letter record.
	now = now.Add(time.Hour)
	r.Topic = "sp.retry.later.1h"
	got = collect(t, st, r)
	outs = outcomesOf(t, got["sp.outcomes"])
	if len(outs) != 1 || outs[0].Status != event.StatusRejected || !strings.HasPrefix(outs[0].Reason, "retries_exhausted") || outs[0].Record != "events.web/0/7" {
		t.Fatalf("outcomes %+v, want one rejected retries_exhausted for the input record", outs)
	}
	if len(got["sp.dlq"]) != 1 {
		t.Errorf("%d DLQ records, want 1", len(got["sp.dlq"]))
	}
}

// TestRetryPastMaxAgeExpires: an event whose next retry would come after
// the platform's age limit is expired now, not scheduled.
func TestRetryPastMaxAgeExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	dest := &later{fails: map[string]int{"old": 5}, after: 2 * time.Hour}
	st := deliver.New(dest, kafkax.Topics{Prefix: "sp."}, deliver.Config{
		InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxRetryElapsed: time.Second,
		Tiers: []time.Duration{time.Hour},
	}, func() time.Time { return now }, nil)
	v, _ := json.Marshal(event.Event{EventID: "old", EventName: "purchase", EventTime: now.Add(-23*time.Hour - 30*time.Minute)})
	got := collect(t, st, &kgo.Record{Topic: "sp.out.later", Value: v})
	outs := outcomesOf(t, got["sp.outcomes"])
	if len(outs) != 1 || outs[0].Status != event.StatusExpired || len(got["sp.retry.later.1h"]) != 0 || len(got["sp.dlq"]) != 1 {
		t.Fatalf("outcomes %+v, produced %v; want expired with a DLQ record and no retry", outs, keys(got))
	}
}

func keys(m map[string][]*kgo.Record) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

// TestRateLimit: with requests_per_minute set, requests are spaced so the
// platform's per-account limit holds, however many batches are waiting.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	dest := &later{fails: map[string]int{}}
	st := deliver.New(dest, kafkax.Topics{Prefix: "sp."}, deliver.Config{
		InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxRetryElapsed: time.Minute, Concurrency: 2,
		RequestsPerMinute: 1200, // 20 a second, bursts of 2 (the concurrency)
	}, nil, nil)
	var recs []*kgo.Record
	for i := range 80 { // 8 batches of 10
		v, _ := json.Marshal(event.Event{EventID: fmt.Sprint("rl-", i), EventName: "purchase", EventTime: time.Now().Add(-time.Minute)})
		recs = append(recs, &kgo.Record{Topic: "sp.out.later", Value: v})
	}
	start := time.Now()
	got := collect(t, st, recs...)
	elapsed := time.Since(start)
	if n := len(outcomesOf(t, got["sp.outcomes"])); n != 80 || dest.sends != 8 {
		t.Fatalf("%d outcomes from %d requests, want 80 from 8", n, dest.sends)
	}
	// 8 requests at 20/s with a burst of 2: the last waits 6/20 s.
	if min := 300 * time.Millisecond; elapsed < min*9/10 {
		t.Errorf("8 requests took %s; a 1200/min limit needs at least %s", elapsed, min)
	}
}
