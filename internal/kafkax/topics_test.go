package kafkax

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestEnsureTopics: without create, a missing topic is an error naming it
// and the way out; with create, it is created; after that, all is well.
func TestEnsureTopics(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := StartEmbedded("127.0.0.1:0", "", 1, "sp.events")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	specs := []TopicSpec{{Name: "sp.events", Partitions: 1}, {Name: "sp.dlq", Partitions: 2}, {Name: "sp.outcomes", Partitions: 2}}

	err = EnsureTopics(ctx, cl, -1, false, specs...)
	if err == nil || !strings.Contains(err.Error(), "sp.dlq, sp.outcomes") || strings.Contains(err.Error(), "sp.events") || !strings.Contains(err.Error(), "topics apply") {
		t.Fatalf("without create: %v; want the two missing topics named, and how to create them", err)
	}
	if err := EnsureTopics(ctx, cl, -1, true, specs...); err != nil {
		t.Fatalf("with create: %v", err)
	}
	// The next start of the pipeline, with its own client (kadm answers
	// from the client's cached metadata, which still has them missing).
	cl2, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	if err := EnsureTopics(ctx, cl2, -1, false, specs...); err != nil {
		t.Fatalf("after creating: %v", err)
	}
	if ps := b.Cluster.PartitionInfos("sp.dlq"); len(ps) != 2 {
		t.Errorf("sp.dlq has %d partitions, want 2", len(ps))
	}
}
