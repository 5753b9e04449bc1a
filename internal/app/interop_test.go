package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/signalpipe/signalpipe/internal/demo"
)

// TestInteropKafkaGoProducer produces with segmentio/kafka-go, a client
// independent of franz-go, and checks the pipeline consumes and delivers
// every event: the wire protocol, not a shared library, is what connects us
// to producers.
func TestInteropKafkaGoProducer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	w := &kafkago.Writer{
		Addr:         kafkago.TCP(st.Broker.Addr),
		Topic:        demo.TopicCRM,
		Balancer:     &kafkago.Hash{},
		RequiredAcks: kafkago.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	defer w.Close()
	const n = 300
	msgs := make([]kafkago.Message, n)
	want := map[string]bool{}
	for i := range msgs {
		id := fmt.Sprintf("kgo-%d", i)
		want[id] = true
		msgs[i] = kafkago.Message{Key: []byte(fmt.Sprintf("crm-%d", i%17)), Value: []byte(fmt.Sprintf(
			`{"event_id":%q,"event_name":"Deal Won","event_time":%q,"source":"crm","user":{"email":"buyer%d@example.com","external_id":"crm-%d"},"properties":{"value":1200,"currency":"EUR","order_id":"deal-%d"}}`,
			id, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), i, i, i))}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("kafka-go produce: %v", err)
	}

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := map[string]bool{}
		for _, e := range st.Sandbox.Meta().Events() {
			if e.EventName != "ClosedDeal" || e.ActionSource != "system_generated" {
				t.Fatalf("event %s arrived as %s/%s, want ClosedDeal/system_generated", e.EventID, e.EventName, e.ActionSource)
			}
			got[e.EventID] = true
		}
		// Outcomes commit after the sandbox answered, so wait for both.
		delivered := st.Ledger.Snapshot().Outcomes["delivered"]
		if len(got) == n && delivered == n {
			for id := range want {
				if !got[id] {
					t.Fatalf("event %s missing", id)
				}
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d kafka-go events reached the sandbox, %d delivered outcomes", len(got), n, delivered)
		case <-tick.C:
		}
	}
}
