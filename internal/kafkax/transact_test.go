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

// TestTransactLoopHoldWaitsInKafka: a handler that requeues a record which
// is not due and holds its partition sees it again only after the hold, a
// bounded number of times, while another partition keeps flowing.
func TestTransactLoopHoldWaitsInKafka(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := StartEmbedded("127.0.0.1:0", "", 2, "q")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	base := []kgo.Opt{kgo.SeedBrokers(b.Addr), kgo.MetadataMinAge(100 * time.Millisecond), kgo.RecordPartitioner(kgo.ManualPartitioner())}
	prod, err := kgo.NewClient(base...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	start := time.Now()
	due := start.Add(1500 * time.Millisecond)
	if err := prod.ProduceSync(ctx,
		&kgo.Record{Topic: "q", Partition: 0, Value: []byte("later")},
		&kgo.Record{Topic: "q", Partition: 1, Value: []byte("now-1")},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sess, err := kgo.NewGroupTransactSession(append(base,
		kgo.ConsumerGroup("g"), kgo.ConsumeTopics("q"), kgo.TransactionalID("t-hold"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	type seen struct {
		value string
		at    time.Time
	}
	got := make(chan seen, 100)
	loop := &TransactLoop{
		Name: "hold", Session: sess, PollRecords: 10, EndTimeout: 10 * time.Second, ShutdownTimeout: time.Second,
		Handle: func(ctx context.Context, recs []*kgo.Record, out *Output) error {
			for _, r := range recs {
				got <- seen{string(r.Value), time.Now()}
				if string(r.Value) == "later" && time.Now().Before(due) {
					out.Produce(&kgo.Record{Topic: r.Topic, Partition: r.Partition, Value: r.Value})
					out.Hold(r.Topic, r.Partition, due)
				}
			}
			return nil
		},
	}
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- loop.Run(lctx) }()

	// While partition 0 is held, partition 1 still flows.
	time.AfterFunc(300*time.Millisecond, func() {
		prod.Produce(ctx, &kgo.Record{Topic: "q", Partition: 1, Value: []byte("now-2")}, nil)
	})
	var laterSeen []time.Time
	var now2 time.Time
	for len(laterSeen) == 0 || laterSeen[len(laterSeen)-1].Before(due) || now2.IsZero() {
		select {
		case s := <-got:
			switch s.value {
			case "later":
				laterSeen = append(laterSeen, s.at)
			case "now-2":
				now2 = s.at
			}
		case <-ctx.Done():
			t.Fatalf("timed out: later seen %d times, now-2 at %v", len(laterSeen), now2)
		}
	}
	lcancel()
	if err := <-done; err != nil {
		t.Fatalf("loop: %v", err)
	}
	// Seen once at the start, then only once the hold ended: a handful of
	// times at most, never a busy loop.
	if n := len(laterSeen); n < 2 || n > 4 {
		t.Errorf("the held record was handled %d times, want 2 to 4", n)
	}
	if !now2.Before(due) {
		t.Errorf("the other partition's record came at +%s, after the hold ended (+1.5s): the hold blocked it", now2.Sub(start))
	}
}
