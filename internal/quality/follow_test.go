package quality_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/quality"
)

// TestReplicasAndRestartAgree feeds sp.outcomes on kfake to two replicas at
// once and to a third started after the others stopped (a restart): every
// one reads the whole topic, so all three reports are the same.
func TestReplicasAndRestartAgree(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "sp.outcomes"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	now := time.Now().UTC()
	var recs []*kgo.Record
	const events = 300
	for i := range events {
		id, at := fmt.Sprintf("ev-%d", i), now.Add(-time.Duration(i)*time.Minute)
		rec := fmt.Sprintf("events.web/0/%d", i)
		recs = append(recs, kafkax.OutcomeRecord("sp.outcomes", event.Outcome{Record: rec, EventID: id, EventName: "purchase", Source: event.SourceWeb, Status: event.StatusRouted, Destinations: []string{"meta"}, At: at}))
		st, reason := event.StatusDelivered, ""
		if i%10 == 0 {
			st, reason = event.StatusRejected, "invalid_parameter"
		}
		recs = append(recs, kafkax.OutcomeRecord("sp.outcomes", event.Outcome{Record: rec, EventID: id, EventName: "purchase", Source: event.SourceWeb, Destination: "meta", Status: st, Reason: reason, EventTime: at.Add(-time.Second), MatchKeys: []string{"em"}, At: at}))
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	follow := func() (*quality.Monitor, func()) {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50 * time.Millisecond)}, quality.FollowOpts("sp.outcomes", nil)...)...)
		if err != nil {
			t.Fatal(err)
		}
		m := quality.NewMonitor(quality.Config{}, quality.MonitorOptions{})
		m.CatchUp = quality.NewCatchUp(started)
		fctx, fcancel := context.WithCancel(ctx)
		// MaxWait of an hour: only reading the backlog can make it done.
		go m.CatchUp.Listen(fctx, kadm.NewClient(cl), "sp.outcomes", time.Hour, nil)
		done := make(chan struct{})
		go func() { defer close(done); quality.Follow(fctx, cl, m, nil) }()
		return m, func() { fcancel(); cl.Close(); <-done }
	}
	waitAll := func(m *quality.Monitor) quality.Report {
		t.Helper()
		for {
			r := m.Report(quality.Query{Since: now.Add(-24 * time.Hour), Until: now.Add(time.Minute)})
			if r.Totals.Routed == events && r.Totals.Delivered+r.Totals.Rejected == events {
				return r
			}
			select {
			case <-ctx.Done():
				t.Fatalf("replica saw %d routed, %d terminal of %d", r.Totals.Routed, r.Totals.Delivered+r.Totals.Rejected, events)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	// The backlog was written before the followers start: each one is
	// caught up only once it has read it all.
	a, stopA := follow()
	b, stopB := follow()
	ra, rb := waitAll(a), waitAll(b)
	stopA()
	stopB()
	restarted, stopR := follow()
	defer stopR()
	rr := waitAll(restarted)
	for name, m := range map[string]*quality.Monitor{"a": a, "restarted": restarted} {
		for !m.CatchUp.Done() {
			select {
			case <-ctx.Done():
				t.Fatalf("replica %s never caught up", name)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	for name, r := range map[string]quality.Report{"replica b": rb, "restarted": rr} {
		if r.Totals.Delivered != ra.Totals.Delivered || r.Totals.Rejected != ra.Totals.Rejected || r.Totals.Freshness != ra.Totals.Freshness ||
			r.Totals.MatchQualityEstimate != ra.Totals.MatchQualityEstimate || len(r.Series) != len(ra.Series) {
			t.Errorf("%s differs from replica a:\n%+v\n%+v", name, r.Totals, ra.Totals)
		}
	}
	if ra.Totals.Rejected != events/10 || ra.Totals.RejectedByReason["invalid_parameter"] != events/10 {
		t.Errorf("rejected = %d, want %d", ra.Totals.Rejected, events/10)
	}
	if _, ok := restarted.Traces.Get("ev-7"); !ok {
		t.Error("the restarted replica's trace index lacks ev-7")
	}
}
