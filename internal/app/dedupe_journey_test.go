package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/process"
)

// TestJourneyOrderDedupedAcrossMerge is issue #4's dedupe journey on the
// real pipeline: a purchase with an order id on the web under the visitor's
// anonymous id, the app sign-up that links the visitor to the user id, then
// the same order from the CRM keyed by the user id. The visitor's and the
// user's keys are chosen to land in different sp.events partitions, so only
// marks that moved with the merge can catch the duplicate.
func TestJourneyOrderDedupedAcrossMerge(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now().UTC().Truncate(time.Second).Add(-2 * 24 * time.Hour)
	env := newJourneyEnv(t, t0)
	defer env.run(ctx, "replica-a", t.TempDir())()

	anon, user := apartKeys(t, 6)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	env.send(ctx, demo.TopicWeb, "web-buy-1", fmt.Sprintf(`{"event_id":"web-buy-1","event_name":"purchase","event_time":%q,"source":"web",
		"user":{"anonymous_id":%q,"email":"grace@example.com"},
		"context":{"ip":"203.0.113.9","user_agent":"Mozilla/5.0","page_url":"https://shop.example/thanks"},
		"properties":{"value":60,"currency":"EUR","order_id":"ord-77"}}`, at(0), anon))
	env.clock.Set(t0.Add(time.Hour))
	env.send(ctx, demo.TopicApp, "signup-1", fmt.Sprintf(`{"event_id":"signup-1","event_name":"sign_up","event_time":%q,"source":"app",
		"user":{"user_id":%q,"anonymous_id":%q,"email":"grace@example.com"},
		"context":{"ip":"198.51.100.9","app":{"name":"Shop","version":"1.0","namespace":"com.example.shop"}}}`, at(time.Hour), user, anon))
	env.clock.Set(t0.Add(24 * time.Hour))
	if err := env.prod.ProduceSync(ctx, &kgo.Record{Topic: demo.TopicCRM, Value: []byte(fmt.Sprintf(`{"event_id":"crm-buy-1","event_name":"purchase","event_time":%q,"source":"crm",
		"user":{"user_id":%q,"email":"grace@example.com"},
		"properties":{"value":60,"currency":"EUR","order_id":"ord-77"}}`, at(24*time.Hour), user))}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	o := env.outcome(ctx, "crm-buy-1", "meta")
	if o.Status != event.StatusDeduplicated || o.Reason != process.ReasonDuplicateOrderID || !strings.Contains(o.Detail, "order_id ord-77") {
		t.Fatalf("the CRM copy of the web order: outcome %+v, want deduplicated on order_id ord-77", o)
	}
	for _, ev := range env.sb.Meta().Events() {
		if ev.EventID == "crm-buy-1" {
			t.Error("Meta got the order twice")
		}
	}
}

// apartKeys returns an anonymous id and a user id whose sp.events keys go
// to different partitions of n under the producer's default partitioner.
func apartKeys(t *testing.T, n int) (anon, user string) {
	t.Helper()
	p := kgo.StickyKeyPartitioner(nil).ForTopic("sp.events")
	part := func(k []byte) int { return p.Partition(&kgo.Record{Key: k}, n) }
	for i := 0; i < 100; i++ {
		anon, user = fmt.Sprintf("anon-dedupe-%d", i), fmt.Sprintf("user-dedupe-%d", i)
		if part(ingest.IdentityKey(&event.Event{User: event.User{AnonymousID: anon}})) != part(ingest.IdentityKey(&event.Event{User: event.User{UserID: user}})) {
			return anon, user
		}
	}
	t.Fatal("no ids in different partitions")
	return "", ""
}

// outcome waits for the terminal outcome of the event for dest on
// sp.outcomes.
func (e *journeyEnv) outcome(ctx context.Context, eventID, dest string) event.Outcome {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.Addr), kgo.ConsumeTopics("sp.outcomes"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("no outcome of %s for %s", eventID, dest)
		}
		var found *event.Outcome
		fs.EachRecord(func(r *kgo.Record) {
			var o event.Outcome
			if json.Unmarshal(r.Value, &o) == nil && o.EventID == eventID && o.Destination == dest && found == nil {
				found = &o
			}
		})
		if found != nil {
			return *found
		}
	}
}
