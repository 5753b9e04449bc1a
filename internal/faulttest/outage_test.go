package faulttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/deliver"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/webhook"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// TestFaultPlatformOutage: Meta answers 503, then 429 with Retry-After,
// then times out, for a window, and recovers. Nothing is lost: every record
// ends delivered to both destinations; the breaker opened during the outage
// and closed after it; the failing platform was not hammered (requests stay
// bounded while the breaker is open); and the other destination, a webhook,
// received everything while Meta was still down.
func TestFaultPlatformOutage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true, Tune: func(c *config.Config) {
		c.Deliver.InitialBackoff = 20 * time.Millisecond
		c.Deliver.MaxBackoff = 200 * time.Millisecond
		c.Deliver.Breaker = config.Breaker{Failures: 3, OpenFor: 300 * time.Millisecond, MaxOpenFor: time.Second}
		c.Destinations[0].Meta.Timeout = 300 * time.Millisecond
		c.Destinations[0].Meta.Linger = 20 * time.Millisecond
		c.Destinations[0].Meta.BatchSize = 200
		c.Destinations = append(c.Destinations, config.Destination{Name: "hook", Type: config.TypeWebhook, Webhook: &webhook.Config{
			URL: c.Destinations[0].Meta.Endpoint + "/hooks/crm", SecretEnv: demo.WebhookSecretEnv,
			Delivery: destination.Delivery{Linger: 20 * time.Millisecond},
		}})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// The outage: three kinds of failure, each for a while.
	now := time.Now()
	phases := []sandbox.Fault{
		{Status: 503},
		{Status: 429, RetryAfter: time.Second},
		{Latency: 2 * time.Second}, // beyond the client's 300 ms timeout
	}
	st.Sandbox.SetFault("meta", phases[0])

	const n = 3000
	var recs []demo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, demo.Record{Topic: demo.TopicCRM, Value: []byte(fmt.Sprintf(
			`{"event_id":"o-%d","event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"o%d@example.com"}}`,
			i, now.Add(-time.Hour).UTC().Format(time.RFC3339), i))})
	}
	inputs, err := st.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}

	sawOpen := false
	watch := func(d time.Duration) {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if st.App.Breakers()["meta"] == deliver.BreakerOpen {
				sawOpen = true
			}
			pause(ctx, 20*time.Millisecond) // sampling the breaker
		}
	}
	for _, f := range phases {
		st.Sandbox.SetFault("meta", f)
		watch(1500 * time.Millisecond)
	}
	during := st.Sandbox.Meta().Stats()
	hookDuring := st.Sandbox.Webhook().Stats()
	st.Sandbox.ClearFaults()

	if _, err := st.WaitBalanced(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	snap := st.Ledger.Snapshot()
	if snap.ByDestination["meta"]["delivered"] != n || snap.ByDestination["hook"]["delivered"] != n {
		t.Errorf("outcomes by destination %v, want all %d delivered to each", snap.ByDestination, n)
	}
	if hookDuring.Accepted < n {
		t.Errorf("the webhook received %d of %d events while Meta was down: one platform's outage slowed another", hookDuring.Accepted, n)
	}
	if !sawOpen {
		t.Error("the breaker never opened during a 4.5 s outage")
	}
	if s := st.App.Breakers()["meta"]; s != deliver.BreakerClosed {
		t.Errorf("breaker %s after recovery, want closed", s)
	}
	// Without a breaker, 4.5 s of retries every 20-200 ms from 4 concurrent
	// senders would be well over 100 requests.
	if during.Requests > 60 {
		t.Errorf("%d requests reached the failing platform during the outage; the breaker should hold them back", during.Requests)
	}
	got := map[string]bool{}
	for _, e := range st.Sandbox.Meta().Events() {
		got[e.EventID] = true
	}
	if len(got) != n {
		t.Errorf("sandbox holds %d distinct events, want %d", len(got), n)
	}
	t.Logf("during the outage: %d requests (%d faulted); after: %+v", during.Requests, during.Faulted, st.Sandbox.Meta().Stats())
}
