package process

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
)

// benchRecords makes n sp.events records of people identified by user id:
// a landing page view with click ids and cookies, then purchases with an
// order id, each person's events together as they would be in a partition.
func benchRecords(n, people int) []*kgo.Record { return benchRecordsOf(n, people, true) }

// benchRecordsOf is benchRecords; withEmail false leaves the email out, so
// people are known by their user id alone and no identity links are made
// (the steady state of known customers).
func benchRecordsOf(n, people int, withEmail bool) []*kgo.Record {
	recs := make([]*kgo.Record, 0, n)
	for i := 0; i < n; i++ {
		p := strconv.Itoa(i % people)
		ev := event.Event{EventID: "ev-" + strconv.Itoa(i), Source: event.SourceWeb, EventTime: t0.Add(time.Duration(i) * time.Millisecond),
			User:    event.User{UserID: "user-" + p, Email: "person" + p + "@example.com", Phone: "+1 650 555 " + strconv.Itoa(1000+i%9000)},
			Context: event.Context{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0", PageURL: "https://shop.example/p/" + p}}
		if !withEmail {
			ev.User.Email = ""
		}
		if i < people {
			ev.EventName = event.NamePageView
			ev.Context.ClickIDs = event.ClickIDs{Fbclid: "IwAR" + p + "-abcdefghijklmnopqrstuvwxyz", Gclid: "Cj0KCQ" + p + "-abcdefghijklmnop"}
			ev.Context.Cookies = event.Cookies{Fbp: "fb.1.1700000000000." + p}
		} else {
			ev.EventName = event.NamePurchase
			ev.Properties = event.Properties{Value: fp(42.5), Currency: "USD", OrderID: "ord-" + strconv.Itoa(i)}
		}
		ev.Origin = event.Origin{Topic: "events.web", Offset: int64(i)}
		v, _ := json.Marshal(&ev)
		recs = append(recs, &kgo.Record{Topic: "sp.events", Key: ingest.IdentityKey(&ev), Value: v, Offset: int64(i)})
	}
	return recs
}

// handleAll runs recs through the handler as one partition would: the
// records the stage writes to sp.events for itself (identity links and
// merges) come back as the next batches. It returns how many records were
// handled in all.
func handleAll(tb testing.TB, h *harness, recs []*kgo.Record) int {
	handled := 0
	for len(recs) > 0 {
		var again []*kgo.Record
		out := kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) {
			if r.Topic == "sp.events" {
				again = append(again, r)
			}
			p(r, nil)
		})
		if err := h.st.Handle(context.Background(), recs, out); err != nil {
			tb.Fatal(err)
		}
		h.st.AfterBatch(true)
		handled += len(recs)
		recs = again
	}
	return handled
}

// BenchmarkProcessStage is the stage's handler on one partition with its
// state in Pebble on local disk: decode, identity, click ids, profile,
// consent, dedupe (two keys per purchase), routing to two destinations,
// changelog records and the local commit after each batch of 1,000. Kafka
// I/O is not included (the end-to-end figure is internal/bench's).
func BenchmarkProcessStage(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(200)) // as the binary runs (cli.DefaultGCPercent)
	h := newHarness(b, nil)
	const batch = 1000
	recs := benchRecords(200_000, 20_000)
	internal := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := (i * batch) % len(recs)
		internal += handleAll(b, h, recs[start:start+batch]) - batch
	}
	// Input events per second; the link round trips a person's first
	// event causes are work included in the time, not counted as events.
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(internal)/float64(b.N*batch), "internal-records/event")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkStoreSize reports the store's size on disk per million people
// (person records with identifiers, click ids and cookies) and per million
// dedupe keys (each with its age-index entry).
func BenchmarkStoreSize(b *testing.B) {
	const people, purchases = 100_000, 100_000 // each purchase marks 2 keys (event id, order id) for each of 2 destinations
	for i := 0; i < b.N; i++ {
		h := newHarness(b, func(c *Config) { metaOnly(c) })
		run := func(recs []*kgo.Record) uint64 {
			for s := 0; s < len(recs); s += 1000 {
				handleAll(b, h, recs[s:min(s+1000, len(recs))])
			}
			size, err := h.pt().Size()
			if err != nil {
				b.Fatal(err)
			}
			return size
		}
		recs := benchRecords(people+purchases, people)
		afterPeople := run(recs[:people])
		afterKeys := run(recs[people:])
		b.ReportMetric(float64(afterPeople)/people, "B/person")
		b.ReportMetric(float64(afterPeople)/people*1e6/(1<<20), "MiB/1M-people")
		keys := float64(purchases * 2) // event id and order id, one destination
		b.ReportMetric(float64(afterKeys-afterPeople)/keys*1e6/(1<<20), "MiB/1M-dedupe-keys")
	}
}

// BenchmarkProcessStageOnKafka is the whole stage on kfake: a consumer
// group transaction per poll (2,000 records), the events' outputs,
// outcomes and state changelog produced in it, state in Pebble on local
// disk. The broker runs in the same process, so it shares the two cores.
// People are known by user id (no identity links: a link defers an event
// to a later batch, which would make "committed" mean "not yet done");
// events/s counts input events committed, and the run checks each has its
// routing outcome.
func BenchmarkProcessStageOnKafka(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	const partitions = 6
	n := max(b.N, 20_000)
	topics := kafkax.Topics{Prefix: "sp."}
	br, err := kafkax.StartEmbedded("127.0.0.1:0", "", partitions, topics.Events(), topics.DLQ(), topics.Outcomes(), topics.Out("meta"), topics.Out("tiktok"), topics.State(StoreName), topics.State(WithdrawalsStore))
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	base := []kgo.Opt{kgo.SeedBrokers(br.Addr), kgo.MetadataMinAge(100 * time.Millisecond)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(append(base, kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		b.Fatal(err)
	}
	recs := benchRecordsOf(n, n/10, false)
	for _, r := range recs {
		r.Topic = topics.Events()
		prod.Produce(ctx, r, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	prod.Close()

	st, err := store.Open(store.Config{Name: StoreName, Topic: topics.State(StoreName), Dir: b.TempDir(), ClientOpts: base})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Release()
	stage := New(Config{
		Routes: []Route{
			{Destination: "meta", Accepts: func(*event.Event) bool { return true }},
			{Destination: "tiktok", Accepts: func(ev *event.Event) bool { return ev.EventName == event.NamePurchase }},
		},
		Topics: topics, Store: st, ClickIDWindows: map[string]time.Duration{"fbclid": 7 * 24 * time.Hour, "gclid": 90 * 24 * time.Hour, "fbp": 90 * 24 * time.Hour},
		ConsentPolicy: func(string) (string, string) { return PolicyDrop, PolicySend },
	})
	revoke := func(_ context.Context, _ *kgo.Client, parts map[string][]int32) { st.Revoke(parts[topics.Events()]...) }
	sess, err := kgo.NewGroupTransactSession(append(base,
		kgo.ConsumerGroup("bench-process"), kgo.ConsumeTopics(stage.Topics()...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.TransactionalID("bench-process"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RecordPartitioner(store.Partitioner("sp.state.", kgo.StickyKeyPartitioner(nil))),
		kgo.OnPartitionsRevoked(revoke), kgo.OnPartitionsLost(revoke), kgo.MaxBufferedRecords(20_000),
	)...)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	var inBatch, done int
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	loop := &kafkax.TransactLoop{Name: "process", Session: sess, PollRecords: 2000, EndTimeout: 30 * time.Second, ShutdownTimeout: time.Second,
		Handle: func(ctx context.Context, recs []*kgo.Record, out *kafkax.Output) error {
			inBatch = 0
			for _, r := range recs {
				if r.Topic == topics.Events() && kafkax.Header(r, HeaderKind) == "" {
					inBatch++
				}
			}
			return stage.Handle(ctx, recs, out)
		},
		AfterBatch: func(committed bool) {
			stage.AfterBatch(committed)
			if committed {
				done += inBatch
				if done >= n {
					stop()
				}
			}
		},
	}
	b.ResetTimer()
	start := time.Now()
	if err := loop.Run(lctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	if done < n {
		b.Fatalf("processed %d of %d events", done, n)
	}
	// Every input event has its routing outcome, or the count was wrong.
	cl, err := kgo.NewClient(base...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics.Outcomes())
	if err != nil {
		b.Fatal(err)
	}
	var outcomes int64
	ends.Each(func(o kadm.ListedOffset) { outcomes += o.Offset })
	if outcomes < int64(n) { // end offsets count transaction markers too, so ≥
		b.Fatalf("%d outcome records for %d events", outcomes, n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(0, "ns/op")
}
