package process

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
)

// harness runs the stage's handler on one partition against a real store
// (kfake holds its changelog), feeding the records the stage writes to
// sp.events for itself (links, merges, forwards, releases) back in, as the
// partition's next batches would be, until none are left. The cross-
// partition path is covered end to end in internal/app.
type harness struct {
	t        testing.TB
	st       *Stage
	now      time.Time
	off      int64
	topics   kafkax.Topics
	outcomes []event.Outcome
	sent     map[string][]event.Event // by destination
	withdrew []string                 // person keys of withdrawal markers, in order
	kinds    map[string]int           // internal records the stage wrote, by kind
	pt       func() *store.Partition
	store    *store.Store
	// parts spreads records over that many partitions by key, as Kafka
	// would, so a person's keys can land apart; 0 or 1 uses partition 0.
	parts int32
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harnessPartitions is how many changelog partitions the harness's store
// has, the most harness.parts may be.
const harnessPartitions = 4

func newHarness(t testing.TB, tune func(*Config)) *harness {
	t.Helper()
	return newHarnessWith(t, nil, tune)
}

// newHarnessWith is newHarness with the store's config tuned too.
func newHarnessWith(t testing.TB, tuneStore func(*store.Config), tune func(*Config)) *harness {
	t.Helper()
	topics := kafkax.Topics{Prefix: "sp."}
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", harnessPartitions, topics.State(StoreName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	sc := store.Config{Name: StoreName, Topic: topics.State(StoreName), Dir: t.TempDir(),
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(b.Addr), kgo.MetadataMinAge(100 * time.Millisecond)}}
	if tuneStore != nil {
		tuneStore(&sc)
	}
	s, err := store.Open(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Release)
	h := &harness{t: t, now: t0, topics: topics, sent: map[string][]event.Event{}, store: s}
	cfg := Config{
		Routes: []Route{
			{Destination: "meta", Accepts: func(*event.Event) bool { return true }},
			{Destination: "tiktok", Accepts: func(ev *event.Event) bool { return ev.EventName == event.NamePurchase }},
		},
		Topics: topics, Store: s, ClickIDWindows: config.DefaultClickIDWindows,
		ConsentPolicy: func(string) (string, string) { return PolicyDrop, PolicySend },
		Clock:         func() time.Time { return h.now },
	}
	if tune != nil {
		tune(&cfg)
	}
	h.st = New(cfg)
	h.store = s
	h.pt = func() *store.Partition { return h.part(0) }
	return h
}

// part opens the state of partition id.
func (h *harness) part(id int32) *store.Partition {
	h.t.Helper()
	pt, err := h.store.Partition(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return pt
}

// send hands events to the stage as ingest would key them.
func (h *harness) send(evs ...event.Event) {
	h.t.Helper()
	var recs []*kgo.Record
	for i := range evs {
		ev := evs[i]
		if ev.Origin.Topic == "" {
			ev.Origin = event.Origin{Topic: "events." + string(ev.Source), Offset: h.off}
		}
		v, err := json.Marshal(&ev)
		if err != nil {
			h.t.Fatal(err)
		}
		recs = append(recs, h.rec(h.topics.Events(), ingest.IdentityKey(&ev), v, nil))
	}
	h.run(recs)
}

func (h *harness) rec(topic string, key, value []byte, headers []kgo.RecordHeader) *kgo.Record {
	h.off++
	return &kgo.Record{Topic: topic, Partition: h.partition(key), Offset: h.off, Key: key, Value: value, Headers: headers}
}

// partition is where a record keyed by key goes.
func (h *harness) partition(key []byte) int32 {
	if h.parts <= 1 {
		return 0
	}
	f := fnv.New32a()
	f.Write(key)
	return int32(f.Sum32() % uint32(h.parts))
}

// deadLetter hands the stage a deliver dead letter for ev (as sent to dest).
func (h *harness) deadLetter(dest string, ev event.Event) {
	h.t.Helper()
	v, _ := json.Marshal(ev)
	r := kafkax.DLQRecord(h.topics.DLQ(), []byte(ev.EventID), v, kafkax.DeadLetter{Stage: "deliver", Reason: "platform_rejected", Destination: dest, Origin: ev.Origin})
	h.run([]*kgo.Record{h.rec(r.Topic, r.Key, r.Value, r.Headers)})
}

func (h *harness) run(recs []*kgo.Record) {
	h.t.Helper()
	for rounds := 0; len(recs) > 0; rounds++ {
		if rounds > 20 {
			h.t.Fatal("internal records never settle")
		}
		var got []*kgo.Record
		out := kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) { got = append(got, r); p(r, nil) })
		if err := h.st.Handle(context.Background(), recs, out); err != nil {
			h.t.Fatal(err)
		}
		h.st.AfterBatch(true)
		recs = nil
		for _, r := range got {
			switch {
			case r.Topic == h.topics.Events():
				if h.kinds == nil {
					h.kinds = map[string]int{}
				}
				h.kinds[kafkax.Header(r, HeaderKind)]++
				recs = append(recs, h.rec(r.Topic, r.Key, r.Value, r.Headers))
			case r.Topic == h.topics.Outcomes():
				var o event.Outcome
				if err := json.Unmarshal(r.Value, &o); err != nil {
					h.t.Fatal(err)
				}
				h.outcomes = append(h.outcomes, o)
			case r.Topic == h.topics.State(WithdrawalsStore):
				h.withdrew = append(h.withdrew, string(r.Key))
			case strings.HasPrefix(r.Topic, "sp.out."):
				var ev event.Event
				if err := json.Unmarshal(r.Value, &ev); err != nil {
					h.t.Fatal(err)
				}
				dest := strings.TrimPrefix(r.Topic, "sp.out.")
				h.sent[dest] = append(h.sent[dest], ev)
			}
		}
	}
}

// last returns the last event sent to dest with that id.
func (h *harness) last(dest, id string) (event.Event, bool) {
	evs := h.sent[dest]
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].EventID == id {
			return evs[i], true
		}
	}
	return event.Event{}, false
}

// outcome returns the last terminal or routed outcome for the event id and
// destination ("" for routing outcomes).
func (h *harness) outcome(id, dest string) (event.Outcome, bool) {
	for i := len(h.outcomes) - 1; i >= 0; i-- {
		if o := h.outcomes[i]; o.EventID == id && o.Destination == dest {
			return o, true
		}
	}
	return event.Outcome{}, false
}

func fp(f float64) *float64 { return &f }
