package faulttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
)

// TestFaultThreeInstancesOneLeaves: three replicas of the pipeline share the
// consumer groups; one is stopped in the middle of the run. Its partitions
// move to the other two and nothing is lost: every input record ends with
// exactly one terminal outcome, and every event reaches the sandbox.
func TestFaultThreeInstancesOneLeaves(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true, Tune: func(c *config.Config) {
		c.Kafka.SessionTimeout = 6 * time.Second // how long a departed static member keeps its partitions
		c.Destinations[0].Meta.Linger = 20 * time.Millisecond
		c.Destinations[0].Meta.BatchSize = 100
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stopB, err := st.AddInstance(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddInstance(ctx, "c"); err != nil {
		t.Fatal(err)
	}

	const n, waves = 6000, 3
	now := time.Now()
	var inputs []string
	for w := 0; w < waves; w++ {
		var recs []demo.Record
		for i := w * n / waves; i < (w+1)*n/waves; i++ {
			recs = append(recs, demo.Record{Topic: demo.TopicCRM, Value: []byte(fmt.Sprintf(
				`{"event_id":"sc-%d","event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"sc%d@example.com"}}`,
				i, now.Add(-time.Hour).UTC().Format(time.RFC3339), i))})
		}
		in, err := st.Produce(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in...)
		if w == 0 {
			// Let the first wave flow, so b has joined and holds partitions.
			for st.Ledger.Snapshot().Terminal < int64(n/waves/2) {
				if ctx.Err() != nil {
					t.Fatalf("first wave: %d terminal outcomes", st.Ledger.Snapshot().Terminal)
				}
				pause(ctx, 20*time.Millisecond)
			}
		}
		if w == 1 {
			// Mid-run: instance b leaves while the second wave is in flight.
			if err := stopB(); err != nil {
				t.Fatalf("instance b: %v", err)
			}
		}
	}
	if _, err := st.WaitBalanced(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	snap := st.Ledger.Snapshot()
	if got := snap.ByDestination["meta"]["delivered"]; got != n {
		t.Errorf("meta delivered %d of %d (outcomes %v)", got, n, snap.ByDestination["meta"])
	}
	got := map[string]bool{}
	for _, e := range st.Sandbox.Meta().Events() {
		got[e.EventID] = true
	}
	if len(got) != n {
		t.Errorf("sandbox holds %d distinct events, want %d", len(got), n)
	}
	t.Logf("sandbox %+v", st.Sandbox.Meta().Stats())
}
