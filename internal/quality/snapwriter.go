package quality

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Snapshotter writes a Monitor's snapshots (snapshot.go) and the record of
// the alerts posted, while this replica leads. On each new term it first
// takes over: it reads the snapshot topic for the alerts the previous leader
// posted (so they are not posted again) and for the keys no manifest of its
// own will name (deleted after its first manifest); until then Leading is
// false and the Alerter does not post.
type Snapshotter struct {
	m        *Monitor
	cl       *kgo.Client
	opts     []kgo.Opt
	topic    string
	outcomes string
	leader   func() (bool, uint64)
	clock    func() time.Time
	log      *slog.Logger
	// adopted is the term whose takeover is done.
	adopted atomic.Uint64

	mu sync.Mutex // one write at a time
	// written is what the last manifest holds of each window, named its
	// keys; garbage the keys to delete once a manifest no longer needs them.
	written map[winID]writtenWindow
	named   []string
	garbage []string
	lastGen int64
	// lastSeq is the Monitor's seq before the last snapshot written.
	lastSeq uint64
}

// SnapshotterOptions are a Snapshotter's dependencies.
type SnapshotterOptions struct {
	// Opts are the connection options (kafkax.Config.ClientOpts).
	Opts []kgo.Opt
	// Topic is the snapshot topic, Outcomes the outcome topic.
	Topic, Outcomes string
	// Leader says whether this replica leads, and its term (Elector.Leader).
	Leader func() (bool, uint64)
	Clock  func() time.Time
	Log    *slog.Logger
}

// errNotLeader stops a write when this replica does not (or no longer) lead.
var errNotLeader = errors.New("not the quality leader")

// NewSnapshotter connects the writer; it writes nothing until Run or Write.
func NewSnapshotter(m *Monitor, o SnapshotterOptions) (*Snapshotter, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cl, err := kgo.NewClient(append(slices.Clone(o.Opts), kgo.DefaultProduceTopic(o.Topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		return nil, fmt.Errorf("connecting the snapshot writer: %w", err)
	}
	return &Snapshotter{m: m, cl: cl, opts: o.Opts, topic: o.Topic, outcomes: o.Outcomes, leader: o.Leader, clock: o.Clock, log: o.Log}, nil
}

// Close closes the writer's client.
func (s *Snapshotter) Close() { s.cl.Close() }

// Leading reports whether this replica leads and has taken over: only then
// does it post alerts and write snapshots.
func (s *Snapshotter) Leading() bool {
	ok, term := s.leader()
	return ok && s.adopted.Load() == term
}

// Run takes over when elected and writes a snapshot every interval while
// leading, until ctx ends.
func (s *Snapshotter) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(min(every, time.Second))
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.takeOver(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("taking over as quality leader", "err", err)
			}
			continue
		}
		if ok, _ := s.leader(); !ok || time.Since(last) < every {
			continue
		}
		if err := s.Write(ctx); err != nil {
			if ctx.Err() == nil && !errors.Is(err, errNotLeader) {
				s.log.Warn("writing the quality snapshot", "topic", s.topic, "err", err)
			}
			continue
		}
		last = time.Now()
	}
}

// takeOver prepares a new term, if this replica was just elected.
func (s *Snapshotter) takeOver(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok, term := s.leader()
	if !ok || s.adopted.Load() == term {
		return nil
	}
	latest, err := readLatest(ctx, s.opts, s.topic)
	if err != nil {
		return err
	}
	var rec alertsRecord
	if b, ok := latest[alertsKey]; ok {
		if err := json.Unmarshal(b, &rec); err != nil || rec.Version != snapshotVersion {
			s.log.Warn("ignoring the record of posted alerts; alerts already firing may be posted again", "version", rec.Version, "err", err)
			rec.Sent = nil
		}
	}
	s.m.Alerter.adopt(rec.Sent)
	s.written, s.named, s.garbage = nil, nil, chunkKeys(latest)
	s.adopted.Store(term)
	return nil
}

// Write takes a snapshot and writes it: the changed chunks, then the
// manifest, then the deletions of the chunks no longer named.
func (s *Snapshotter) Write(ctx context.Context) error {
	if err := s.takeOver(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Leading() {
		return errNotLeader
	}
	seq := s.m.seq.Load()
	if s.named != nil && seq == s.lastSeq && len(s.garbage) == 0 {
		return nil // nothing new since the last snapshot
	}
	// The generation orders nothing (the manifest key does); it only
	// has to differ from every other writer's, so it is wall time, never
	// the injected clock.
	gen := max(time.Now().UnixNano(), s.lastGen+1)
	s.lastGen = gen
	recs, next, named, err := s.m.capture(gen, s.outcomes, s.clock(), s.written)
	if err != nil {
		return err
	}
	chunks, man := recs[:len(recs)-1], recs[len(recs)-1]
	if err := s.produce(ctx, chunks...); err != nil {
		s.garbage = append(s.garbage, keysOf(chunks)...)
		return err
	}
	if !s.Leading() {
		s.garbage = append(s.garbage, keysOf(chunks)...)
		return errNotLeader
	}
	if err := s.produce(ctx, man); err != nil {
		s.garbage = append(s.garbage, keysOf(chunks)...)
		return err
	}
	// Only now, with the new manifest acknowledged, may what the old one
	// named go.
	var dead []kv
	for _, k := range append(s.named, s.garbage...) {
		if _, ok := slices.BinarySearch(named, k); !ok {
			dead = append(dead, kv{key: k})
		}
	}
	s.written, s.named, s.garbage, s.lastSeq = next, named, nil, seq
	if err := s.produce(ctx, dead...); err != nil {
		s.garbage = keysOf(dead) // deleted next time
		return fmt.Errorf("deleting superseded snapshot chunks: %w", err)
	}
	return nil
}

// PersistAlerts stores what the webhook has been told (Alerter.Persist).
func (s *Snapshotter) PersistAlerts(ctx context.Context, sent map[string]AlertState) error {
	if !s.Leading() {
		return errNotLeader
	}
	b, err := json.Marshal(alertsRecord{Version: snapshotVersion, Sent: sent})
	if err != nil {
		return fmt.Errorf("encoding the posted alerts: %w", err)
	}
	return s.produce(ctx, kv{alertsKey, b})
}

func (s *Snapshotter) produce(ctx context.Context, kvs ...kv) error {
	if len(kvs) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, len(kvs))
	for i, r := range kvs {
		recs[i] = &kgo.Record{Topic: s.topic, Partition: 0, Key: []byte(r.key), Value: r.value}
	}
	if err := s.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("writing to %s: %w", s.topic, err)
	}
	return nil
}

func keysOf(kvs []kv) []string {
	out := make([]string, len(kvs))
	for i, r := range kvs {
		out[i] = r.key
	}
	return out
}
