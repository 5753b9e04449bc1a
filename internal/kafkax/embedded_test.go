package kafkax

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestEmbeddedBrokerPersists: with a data dir, what was produced survives a
// restart of the embedded broker (`signalpipe broker --data-dir`).
func TestEmbeddedBrokerPersists(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	b, err := StartEmbedded("127.0.0.1:0", dir, 2, "kept")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "kept", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	b.Close()

	b2, err := StartEmbedded("127.0.0.1:0", dir, 2)
	if err != nil {
		t.Fatalf("restarting on the same data dir: %v", err)
	}
	defer b2.Close()
	rd, err := kgo.NewClient(kgo.SeedBrokers(b2.Addr), kgo.ConsumeTopics("kept"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[string]bool{}
	for len(got) < 3 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("after restart read %v, want a, b, c", got)
		}
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
}

func TestEmbeddedBrokerPortInUse(t *testing.T) {
	t.Parallel()
	b, err := StartEmbedded("127.0.0.1:0", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := StartEmbedded(b.Addr, "", 1); err == nil {
		t.Fatal("a second broker on the same address started")
	}
}
