package kafkax

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTransactLoopAbortIsInvisibleAndRetried: a batch whose handler fails
// aborts; what it produced never reaches read_committed readers, its
// records are consumed again, and in the end every input appears exactly
// once downstream.
func TestTransactLoopAbortIsInvisibleAndRetried(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := StartEmbedded("127.0.0.1:0", "", 3, "in", "out")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	base := []kgo.Opt{kgo.SeedBrokers(b.Addr), kgo.MetadataMinAge(100 * time.Millisecond)}

	prod, err := kgo.NewClient(base...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 300
	for i := 0; i < n; i++ {
		prod.Produce(ctx, &kgo.Record{Topic: "in", Key: []byte(fmt.Sprint(i % 7)), Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	sess, err := kgo.NewGroupTransactSession(append(base,
		kgo.ConsumerGroup("g"), kgo.ConsumeTopics("in"), kgo.TransactionalID("t-1"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var calls, failed, commits atomic.Int64
	loop := &TransactLoop{
		Name: "test", Session: sess, PollRecords: 50, EndTimeout: 10 * time.Second, ShutdownTimeout: time.Second,
		Handle: func(ctx context.Context, recs []*kgo.Record, out *Output) error {
			for _, r := range recs {
				out.Produce(&kgo.Record{Topic: "out", Key: r.Key, Value: r.Value})
			}
			// Fail every third batch after producing: those outputs must
			// vanish with the abort.
			if calls.Add(1)%3 == 0 {
				failed.Add(1)
				return errors.New("injected failure")
			}
			return nil
		},
	}
	loop.OnCommit = func(int, int) { commits.Add(1) }
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- loop.Run(lctx) }()

	reader, err := kgo.NewClient(append(base, kgo.ConsumeTopics("out"), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	seen := map[string]int{}
	total := 0
	for total < n {
		fs := reader.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("saw %d of %d outputs", total, n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			total++
		})
	}
	// Give a stray duplicate a moment to show up before judging.
	pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	reader.PollFetches(pctx).EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
	pcancel()
	lcancel()
	if err := <-done; err != nil {
		t.Fatalf("loop: %v", err)
	}
	if failed.Load() == 0 {
		t.Fatal("no batch failed; the test proved nothing")
	}
	if c, want := commits.Load(), calls.Load()-failed.Load(); c != want {
		t.Errorf("%d batches committed, want %d: a failed batch must never commit", c, want)
	}
	for i := 0; i < n; i++ {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Errorf("input %d appears %d times downstream, want exactly once", i, c)
		}
	}
}
