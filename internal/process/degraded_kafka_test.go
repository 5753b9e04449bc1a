package process

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
	"github.com/signalpipe/signalpipe/internal/store/storetest"
)

// TestDegradedOnKafka runs the stage in its transactional loop on kfake
// while the partition's restore is held: the event reaches sp.out.meta
// (read_committed) within the bound, marked degraded, and the link record
// beside it waits on sp.events until the state is back, then is made.
func TestDegradedOnKafka(t *testing.T) {
	t.Parallel()
	k := newKafkaStage(t)
	slow := newSlowRestore()
	slow.on.Store(true)
	st := k.store(t, t.TempDir(), slow.beforeOpen)
	k.run(t, st, 300*time.Millisecond)
	topics, base, ctx := k.topics, k.base, k.ctx

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

// TestCorruptCopyOnKafka: the stage's local copy is damaged between two
// runs. The process does not crash. The batch that reads the damage aborts,
// the copy is dropped and restored from the changelog, and the events go on.
func TestCorruptCopyOnKafka(t *testing.T) {
	t.Parallel()
	k := newKafkaStage(t)
	dir := t.TempDir()
	st := k.store(t, dir, nil)
	stop := k.run(t, st, 0) // the first run waits for its state: it writes it
	prod, err := kgo.NewClient(k.base...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	// produce sends n purchases of people anon-0…, with their clicks when
	// click is set.
	produce := func(prefix string, n int, click bool) {
		t.Helper()
		var recs []*kgo.Record
		for i := range n {
			ev := event.Event{EventID: fmt.Sprintf("%s-%d", prefix, i), EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: time.Now().UTC(),
				User: event.User{AnonymousID: fmt.Sprintf("anon-%d", i)}, Origin: event.Origin{Topic: "events.web", Offset: int64(i)}}
			if click {
				ev.Context.ClickIDs.Gclid = "Cj0-" + strconv.Itoa(i)
			}
			v, _ := json.Marshal(ev)
			recs = append(recs, &kgo.Record{Topic: k.topics.Events(), Key: ingest.IdentityKey(&ev), Value: v})
		}
		if err := prod.ProduceSync(k.ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	const people = 500
	produce("a", people, true)
	readCommitted(t, k.ctx, k.base, k.topics.Out("meta"), func(r *kgo.Record) bool { return string(r.Key) == fmt.Sprintf("a-%d", people-1) })
	stop()
	pt, err := st.Partition(k.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pt.Size(); err != nil { // flushes the memtable into tables
		t.Fatal(err)
	}
	st.Close()
	damaged := storetest.DamageTables(t, filepath.Join(dir, "p0"))

	k.run(t, st, 300*time.Millisecond)
	produce("b", 20, false)
	readCommitted(t, k.ctx, k.base, k.topics.Out("meta"), func(r *kgo.Record) bool { return string(r.Key) == "b-19" })
	// Restored from the changelog, the copy has the first run's clicks
	// again, and none of the damaged tables.
	var got event.Event
	for j := 0; ; j++ {
		produce(fmt.Sprintf("c%d", j), 1, false)
		r := readCommitted(t, k.ctx, k.base, k.topics.Out("meta"), func(r *kgo.Record) bool { return string(r.Key) == fmt.Sprintf("c%d-0", j) })
		if err := json.Unmarshal(r.Value, &got); err != nil {
			t.Fatal(err)
		}
		if event.DegradedOf(&got) == "" || j == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond) // the restore runs meanwhile; readCommitted bounds the whole by ctx
	}
	if event.DegradedOf(&got) != "" || got.Context.ClickIDs.Gclid != "Cj0-0" {
		t.Errorf("after the drop: degraded %q, gclid %q; want the restored state's click Cj0-0", event.DegradedOf(&got), got.Context.ClickIDs.Gclid)
	}
	if still := storetest.StillDamaged(filepath.Join(dir, "p0"), damaged); len(still) > 0 {
		t.Errorf("tables %v are still the damaged ones: the copy was not dropped", still)
	}
}

// kafkaStage runs the stage in its transactional loop against kfake.
type kafkaStage struct {
	topics kafkax.Topics
	base   []kgo.Opt
	ctx    context.Context
}

func newKafkaStage(t *testing.T) *kafkaStage {
	t.Helper()
	topics := kafkax.Topics{Prefix: "sp."}
	br, err := kafkax.StartEmbedded("127.0.0.1:0", "", 1, topics.Events(), topics.DLQ(), topics.Outcomes(), topics.Out("meta"), topics.State(StoreName), topics.State(WithdrawalsStore))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &kafkaStage{topics: topics, base: []kgo.Opt{kgo.SeedBrokers(br.Addr), kgo.MetadataMinAge(100 * time.Millisecond)}, ctx: ctx}
}

// store opens the stage's store in dir.
func (k *kafkaStage) store(t *testing.T, dir string, beforeOpen func(context.Context, int32) error) *store.Store {
	t.Helper()
	st, err := store.Open(store.Config{Name: StoreName, Topic: k.topics.State(StoreName), Dir: dir, ClientOpts: k.base, BeforeOpen: beforeOpen})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Release)
	return st
}

// run starts a stage on st in its loop, routing everything to meta; the
// returned func stops it and waits until it has.
func (k *kafkaStage) run(t *testing.T, st *store.Store, wait time.Duration) (stop func()) {
	t.Helper()
	stage := New(Config{
		Routes: []Route{{Destination: "meta", Accepts: func(*event.Event) bool { return true }}},
		Topics: k.topics, Store: st, StateWait: wait, ClickIDWindows: config.DefaultClickIDWindows,
		ConsentPolicy: func(string) (string, string) { return PolicyDrop, PolicySend },
	})
	sess, err := kgo.NewGroupTransactSession(append(k.base,
		kgo.ConsumerGroup("degraded-process"), kgo.ConsumeTopics(stage.Topics()...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.TransactionalID("degraded-process"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RecordPartitioner(store.Partitioner("sp.state.", kgo.StickyKeyPartitioner(nil))),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	loop := &kafkax.TransactLoop{Name: "process", Session: sess, PollRecords: 100, EndTimeout: 10 * time.Second, ShutdownTimeout: time.Second,
		AbortBackoff: 100 * time.Millisecond, Handle: stage.Handle, AfterBatch: stage.AfterBatch}
	lctx, cancel := context.WithCancel(k.ctx)
	ended := make(chan error, 1)
	go func() { ended <- loop.Run(lctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-ended; err != nil {
				t.Errorf("stage loop: %v", err)
			}
			sess.Close()
		})
	}
	t.Cleanup(stop)
	return stop
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
