package process

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// TestWithdrawalsReadyAfterEarlierMarkers: Ready closes only once the
// table holds the withdrawals written before Follow started (committed in
// transactions, as the process stage writes them), so deliver never starts
// without them; and a later one arrives too.
func TestWithdrawalsReadyAfterEarlierMarkers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic = "sp.state.withdrawals"
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", 3, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	base := []kgo.Opt{kgo.SeedBrokers(b.Addr), kgo.MetadataMinAge(100 * time.Millisecond)}
	prod, err := kgo.NewClient(append(base, kgo.TransactionalID("w-test"), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	write := func(key string, partition int32, at time.Time) {
		t.Helper()
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, uint64(at.UnixMilli()))
		if err := prod.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: partition, Key: []byte(key), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := prod.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range []string{"p0", "p1", "p2"} {
		write(k, int32(i), t0)
	}
	w := NewWithdrawals()
	go func() { _ = w.Follow(ctx, base, topic, nil) }()
	select {
	case <-w.Ready():
	case <-ctx.Done():
		t.Fatal("never ready")
	}
	for _, k := range []string{"p0", "p1", "p2"} {
		if !w.Purged(k, t0) {
			t.Errorf("ready without %s's withdrawal", k)
		}
	}
	write("p-late", 1, t0)
	for !w.Purged("p-late", t0) {
		select {
		case <-ctx.Done():
			t.Fatal("a withdrawal written after the start never arrived")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
