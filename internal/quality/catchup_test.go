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

// TestCatchUpWithTransactions: the stages write sp.outcomes in
// transactions, so each partition ends in a commit marker the follower never
// sees as a record; catching up must still be recognised, and not before the
// backlog is read.
func TestCatchUpWithTransactions(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "sp.outcomes"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("catchup-test"), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const txns, per = 5, 40
	for i := range txns {
		if err := prod.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for j := range per {
			o := event.Outcome{Record: fmt.Sprintf("t/0/%d", i*per+j), EventID: fmt.Sprintf("e-%d-%d", i, j), Status: event.StatusInvalid, Reason: "r", At: time.Now()}
			recs = append(recs, kafkax.OutcomeRecord("sp.outcomes", o))
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := prod.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
	// The follower starts after the backlog was written.
	started := time.Now().Add(time.Second)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50 * time.Millisecond)}, quality.FollowOpts("sp.outcomes", nil)...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	m := quality.NewMonitor(quality.Config{}, quality.MonitorOptions{TrackRecords: true})
	m.CatchUp = quality.NewCatchUp(started)
	if m.CatchUp.Done() {
		t.Fatal("done before anything was listed or read")
	}
	go m.CatchUp.Listen(ctx, kadm.NewClient(cl), "sp.outcomes", time.Hour, nil)
	go quality.Follow(ctx, cl, m, nil)
	for !m.CatchUp.Done() {
		select {
		case <-ctx.Done():
			t.Fatalf("never caught up; read %d of %d outcomes", m.Ledger.Snapshot().Terminal, txns*per)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if got := m.Ledger.Snapshot().Terminal; got != txns*per {
		t.Errorf("caught up after reading %d of %d outcomes", got, txns*per)
	}
}

// TestCatchUpAbortedTail: a partition ending in an aborted transaction is
// never read to its end; after the maximum wait it counts, the follower
// being near its end.
func TestCatchUpAbortedTail(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "sp.outcomes"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("aborted-tail"), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
		if err := prod.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		o := event.Outcome{Record: fmt.Sprintf("t/0/%d", i), Status: event.StatusInvalid, Reason: "r", At: time.Now()}
		if err := prod.ProduceSync(ctx, kafkax.OutcomeRecord("sp.outcomes", o), kafkax.OutcomeRecord("sp.outcomes", o), kafkax.OutcomeRecord("sp.outcomes", o)).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := prod.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50 * time.Millisecond)}, quality.FollowOpts("sp.outcomes", nil)...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	m := quality.NewMonitor(quality.Config{}, quality.MonitorOptions{})
	m.CatchUp = quality.NewCatchUp(time.Now().Add(time.Hour)) // nothing read counts as "written after the start"
	go m.CatchUp.Listen(ctx, kadm.NewClient(cl), "sp.outcomes", 200*time.Millisecond, nil)
	go quality.Follow(ctx, cl, m, nil)
	for !m.CatchUp.Done() {
		select {
		case <-ctx.Done():
			t.Fatalf("never caught up; read %d outcomes", m.Ledger.Snapshot().Terminal)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if got := m.Ledger.Snapshot().Terminal; got != 3 {
		t.Errorf("read %d committed outcomes, want 3 (the aborted ones are invisible)", got)
	}
}

// TestCatchUpResumedAtEnd: after a restored snapshot, Follow starts at the
// snapshot's offsets; a partition whose offset is already its end has
// nothing left to read and is caught up at once, while one with outcomes
// after its offset waits for them.
func TestCatchUpResumedAtEnd(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "sp.outcomes"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50*time.Millisecond), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for p := range int32(2) {
		for range 3 {
			r := kafkax.OutcomeRecord("sp.outcomes", event.Outcome{Record: "t/0/0", Status: event.StatusInvalid, At: time.Now()})
			r.Partition = p
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Nothing read is "written after the start", and Listen never gives up.
	cu := quality.NewCatchUp(time.Now().Add(time.Hour))
	cu.Resumed(map[int32]int64{0: 3, 1: 1})
	go cu.Listen(ctx, kadm.NewClient(cl), "sp.outcomes", time.Hour, nil)
	// Partition 1 still has offsets 1 and 2 to read: not caught up.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if cu.Done() {
			t.Fatal("caught up with partition 1 unread")
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	// A later start, from a newer snapshot that counted partition 1 too.
	cu.Resumed(map[int32]int64{1: 3})
	for !cu.Done() {
		select {
		case <-ctx.Done():
			t.Fatal("never caught up, though every partition resumed at its end")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
