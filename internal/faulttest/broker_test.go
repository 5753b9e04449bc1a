package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
)

// TestFaultBrokerFaults: while 5,000 events flow, the broker fails
// produce, fetch, offset-commit and transaction-end requests now and then
// (kfake.Fault), with retriable and non-retriable errors. Nothing is lost:
// every input record ends with exactly one terminal outcome per
// destination, and every valid event reaches the sandbox.
func TestFaultBrokerFaults(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true, Tune: func(c *config.Config) {
		c.Deliver.InitialBackoff = 20 * time.Millisecond
		c.Destinations[0].Meta.Linger = 20 * time.Millisecond
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Produce faults hit the pipeline's transactional producers, not the
	// test's own producer of the input.
	txn := func(r kmsg.Request) bool {
		p, ok := r.(*kmsg.ProduceRequest)
		return ok && p.TransactionID != nil
	}
	kinds := []kfake.Fault{
		{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotLeaderForPartition, Count: 3, When: txn},
		{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.RequestTimedOut, Count: 2, When: txn}, // applied, then answered with a timeout
		{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.UnknownServerError, Count: 1, When: txn},
		{Keys: []kmsg.Key{kmsg.Fetch}, Err: kerr.NotLeaderForPartition, Count: 3},
		{Keys: []kmsg.Key{kmsg.TxnOffsetCommit}, Err: kerr.CoordinatorLoadInProgress, Count: 2},
		{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.ConcurrentTransactions, Count: 2},
		{Keys: []kmsg.Key{kmsg.AddPartitionsToTxn}, Err: kerr.CoordinatorNotAvailable, Count: 2},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	stopFaults := make(chan struct{})
	faultsDone := make(chan map[kmsg.Key]int)
	go func() {
		var handles []*kfake.FaultHandle
		var keys []kmsg.Key
		defer func() {
			hits := map[kmsg.Key]int{}
			for i, h := range handles {
				hits[keys[i]] += h.Hits()
				h.Remove()
			}
			faultsDone <- hits
		}()
		for {
			select {
			case <-stopFaults:
				return
			case <-time.After(100 * time.Millisecond):
			}
			k := kinds[rng.IntN(len(kinds))]
			handles = append(handles, st.Broker.Cluster.Fault(k))
			keys = append(keys, k.Keys[0])
		}
	}()

	const n = 5000
	now := time.Now()
	var recs []demo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, demo.Record{Topic: demo.TopicCRM, Value: []byte(fmt.Sprintf(
			`{"event_id":"bf-%d","event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"bf%d@example.com"}}`,
			i, now.Add(-time.Hour).UTC().Format(time.RFC3339), i))})
	}
	inputs, err := st.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	// Keep failing for a while after the last input, then let it settle.
	pause(ctx, 3*time.Second) // the fault window
	close(stopFaults)
	hits := <-faultsDone
	for _, k := range []kmsg.Key{kmsg.Produce, kmsg.Fetch} {
		if hits[k] == 0 {
			t.Errorf("no %s request was faulted (hits %v): the test proved little", k.Name(), hits)
		}
	}

	b, err := st.WaitBalanced(ctx, inputs)
	if err != nil {
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
	t.Logf("faulted requests by key %v; balanced %v; sandbox %+v", hits, b.Balanced, st.Sandbox.Meta().Stats())
}
