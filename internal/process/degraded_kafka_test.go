package process

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
)

// TestDegradedOnKafka runs the stage in its transactional loop on kfake
// while the partition's restore is held: the event reaches sp.out.meta
// (read_committed) within the bound, marked degraded, and the link record
// beside it waits on sp.events until the state is back, then is made.
func TestDegradedOnKafka(t *testing.T) {
	t.Parallel()
	topics := kafkax.Topics{Prefix: "sp."}
	br, err := kafkax.StartEmbedded("127.0.0.1:0", "", 1, topics.Events(), topics.DLQ(), topics.Outcomes(), topics.Out("meta"), topics.State(StoreName), topics.State(WithdrawalsStore))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Close)
	base := []kgo.Opt{kgo.SeedBrokers(br.Addr), kgo.MetadataMinAge(100 * time.Millisecond)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	slow := newSlowRestore()
	slow.on.Store(true)
	st, err := store.Open(store.Config{Name: StoreName, Topic: topics.State(StoreName), Dir: t.TempDir(), ClientOpts: base, BeforeOpen: slow.beforeOpen})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Release)
	stage := New(Config{
		Routes: []Route{{Destination: "meta", Accepts: func(*event.Event) bool { return true }}},
		Topics: topics, Store: st, StateWait: 300 * time.Millisecond,
		ConsentPolicy: func(string) (string, string) { return PolicyDrop, PolicySend },
	})
	sess, err := kgo.NewGroupTransactSession(append(base,
		kgo.ConsumerGroup("degraded-process"), kgo.ConsumeTopics(stage.Topics()...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.TransactionalID("degraded-process"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RecordPartitioner(store.Partitioner("sp.state.", kgo.StickyKeyPartitioner(nil))),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	loop := &kafkax.TransactLoop{Name: "process", Session: sess, PollRecords: 100, EndTimeout: 10 * time.Second, ShutdownTimeout: time.Second,
		Handle: stage.Handle, AfterBatch: stage.AfterBatch}
	lctx, stop := context.WithCancel(ctx)
	ended := make(chan error, 1)
	go func() { ended <- loop.Run(lctx) }()
	t.Cleanup(func() {
		stop()
		<-ended
	})

	ev := event.Event{EventID: "web-1", EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: time.Now().UTC(),
		User: event.User{AnonymousID: "anon-1"}, Origin: event.Origin{Topic: "events.web", Offset: 1}}
	evValue, _ := json.Marshal(ev)
	link, _ := json.Marshal(linkMsg{To: "user-key", ToRank: 4})
	prod, err := kgo.NewClient(base...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	start := time.Now()
	if err := prod.ProduceSync(ctx,
		&kgo.Record{Topic: topics.Events(), Key: []byte("anon-key"), Value: link, Headers: []kgo.RecordHeader{{Key: HeaderKind, Value: []byte(KindLink)}, {Key: HeaderHops, Value: []byte("1")}}},
		&kgo.Record{Topic: topics.Events(), Key: ingest.IdentityKey(&ev), Value: evValue},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}

	out := readCommitted(t, ctx, base, topics.Out("meta"), func(r *kgo.Record) bool { return string(r.Key) == "web-1" })
	t.Logf("event on sp.out.meta after %s", time.Since(start))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the event took %s to reach sp.out.meta with state_wait 300ms", took)
	}
	var sent event.Event
	if err := json.Unmarshal(out.Value, &sent); err != nil || event.DegradedOf(&sent) != event.DegradedStateUnavailable {
		t.Errorf("sp.out.meta got degraded %q (err %v), want state_unavailable", event.DegradedOf(&sent), err)
	}
	// The link is still waiting: put back on sp.events, not yet answered
	// with a merge.
	readCommitted(t, ctx, base, topics.Events(), func(r *kgo.Record) bool {
		return r.Offset >= 2 && kafkax.Header(r, HeaderKind) == KindLink
	})
	close(slow.release)
	readCommitted(t, ctx, base, topics.Events(), func(r *kgo.Record) bool {
		return kafkax.Header(r, HeaderKind) == KindMerge && string(r.Key) == "user-key"
	})
}

// readCommitted reads topic from its start (read_committed) until a record
// matches, and returns it; it fails the test when ctx ends first.
func readCommitted(t *testing.T, ctx context.Context, base []kgo.Opt, topic string, match func(*kgo.Record) bool) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(base, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no matching record on %s: %v", topic, ctx.Err())
		}
		for _, r := range fs.Records() {
			if match(r) {
				return r
			}
		}
	}
}
