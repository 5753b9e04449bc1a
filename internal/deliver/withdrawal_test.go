package deliver_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/deliver"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// down is a platform whose first request fails as retryable; while that
// request is out, the person "leaver" withdraws consent (withdraw runs).
type down struct {
	later
	withdraw func()
	batches  [][]string
}

func (d *down) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	var ids []string
	for _, p := range batch {
		ids = append(ids, p.Event.EventID)
	}
	d.batches = append(d.batches, ids)
	if len(d.batches) == 1 {
		d.withdraw()
		return nil, &destination.RetryableError{Reason: "http_503", Detail: "unavailable"}
	}
	return d.later.Send(ctx, batch)
}

// TestWithdrawalDuringRetryInPlace: an event retried in place is not sent
// again once its person has withdrawn consent; it ends suppressed
// (consent_withdrawn), while the rest of its batch is delivered.
func TestWithdrawalDuringRetryInPlace(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	withdrawn := false
	dest := &down{later: later{fails: map[string]int{}}}
	dest.withdraw = func() { mu.Lock(); withdrawn = true; mu.Unlock() }
	st := deliver.New(dest, kafkax.Topics{Prefix: "sp."}, deliver.Config{
		InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxRetryElapsed: 5 * time.Second, Concurrency: 1,
		Breaker: deliver.BreakerConfig{Failures: 5, OpenFor: time.Second, MaxOpenFor: time.Second},
		Purged: func(identity string, at time.Time) bool {
			mu.Lock()
			defer mu.Unlock()
			return withdrawn && identity == "leaver"
		},
	}, func() time.Time { return now }, nil)
	rec := func(id, person string) *kgo.Record {
		v, _ := json.Marshal(event.Event{EventID: id, EventName: "purchase", EventTime: now.Add(-time.Hour),
			Enrichment: &event.Enrichment{Identity: person}, Origin: event.Origin{Topic: "events.web", Offset: 1}})
		return &kgo.Record{Topic: "sp.out.later", Value: v}
	}
	got := collect(t, st, rec("l1", "leaver"), rec("s1", "stayer"))

	if len(dest.batches) != 2 || len(dest.batches[1]) != 1 || dest.batches[1][0] != "s1" {
		t.Fatalf("requests %v, want [l1 s1] then [s1] alone", dest.batches)
	}
	status := map[string]event.Outcome{}
	for _, o := range outcomesOf(t, got["sp.outcomes"]) {
		status[o.EventID] = o
	}
	if o := status["l1"]; o.Status != event.StatusSuppressed || o.Reason != "consent_withdrawn" {
		t.Errorf("l1: %s %s, want suppressed consent_withdrawn", o.Status, o.Reason)
	}
	if o := status["s1"]; o.Status != event.StatusDelivered {
		t.Errorf("s1: %s %s, want delivered", o.Status, o.Reason)
	}
	if len(got["sp.dlq"]) != 0 {
		t.Errorf("%d dead letters; a withdrawn event is not kept for replay", len(got["sp.dlq"]))
	}
}
