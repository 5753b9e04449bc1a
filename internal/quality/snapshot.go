package quality

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Snapshots keep the aggregates across restarts beyond sp.outcomes'
// retention. The elected replica (leader.go) writes them to a compacted
// one-partition topic (sp.quality.snapshots) as records of three kinds:
//
//   - chunks "w/<resolution>/<window start>/<generation>/<part>": one
//     window's cells, split so that no record nears Kafka's 1 MiB limit;
//   - the state chunk "s/<generation>": the ledger's counters, the example
//     event ids and the newest outcome time;
//   - the manifest "manifest", written last: the generation, the
//     sp.outcomes offset per partition the snapshot reflects, and the key of
//     every chunk it is made of.
//
// A chunk's key holds the generation that wrote it and is never written
// again with other content, so the newest manifest names chunks that are all
// complete, or the snapshot is refused (never half-read). A window that did
// not change keeps its chunks from an older generation; the chunks a new
// manifest no longer names are deleted (tombstones) only after that manifest
// is acknowledged, so compaction, which keeps the newest record of each key,
// always keeps what the newest manifest needs. Alerts the webhook was told of
// live under the key "alerts" (see Alerter.Persist).
//
// Snapshots hold counts, names, reasons and example event ids: never
// personal data.

// snapshotVersion is the encoding of every snapshot record. A snapshot of
// another version is ignored with a warning, and the aggregates are rebuilt
// from what sp.outcomes holds.
const snapshotVersion = 1

// The keys that are not chunks.
const (
	manifestKey = "manifest"
	alertsKey   = "alerts"
)

// maxChunkBytes bounds the cells of one chunk record, well under the
// topic's default maximum message size (1 MiB).
const maxChunkBytes = 256 << 10

// manifest names a complete snapshot.
type manifest struct {
	Version int   `json:"version"`
	Gen     int64 `json:"gen"`
	// Topic is the outcome topic the offsets are of.
	Topic   string    `json:"topic"`
	Written time.Time `json:"written"`
	// Offsets are, per partition, the offset after the last outcome the
	// snapshot holds.
	Offsets map[int32]int64 `json:"offsets"`
	Chunks  []string        `json:"chunks"`
}

// chunk is a window's part, or the state chunk.
type chunk struct {
	Version    int                        `json:"version"`
	Resolution Resolution                 `json:"resolution,omitempty"`
	Start      int64                      `json:"start,omitempty"`
	Cells      []json.RawMessage          `json:"cells,omitempty"`
	Values     map[string][]CurrencyValue `json:"values,omitempty"`
	Ledger     *Snapshot                  `json:"ledger,omitempty"`
	Examples   map[string][]string        `json:"examples,omitempty"`
	LastAdd    time.Time                  `json:"last_add,omitzero"`
}

// cellRecord is one cell in a chunk.
type cellRecord struct {
	Key      Key       `json:"key"`
	Counters *Counters `json:"counters"`
}

// alertsRecord is the value of the "alerts" key.
type alertsRecord struct {
	Version int                   `json:"version"`
	Sent    map[string]AlertState `json:"sent"`
}

// kv is a record to write; a nil value deletes the key.
type kv struct {
	key   string
	value []byte
}

// winID names a window.
type winID struct {
	res   Resolution
	start int64
}

// writtenWindow is what the writer last wrote of a window.
type writtenWindow struct {
	version uint64
	keys    []string
}

// encodeWindow splits w's cells into chunks of generation gen.
func encodeWindow(gen int64, res Resolution, w *window) ([]kv, error) {
	var out []kv
	part := chunk{Version: snapshotVersion, Resolution: res, Start: w.start.Unix(), Values: w.values}
	size := 0
	flush := func() error {
		b, err := json.Marshal(part)
		if err != nil {
			return fmt.Errorf("encoding window %s %d: %w", res, part.Start, err)
		}
		out = append(out, kv{fmt.Sprintf("w/%s/%d/%d/%d", res, part.Start, gen, len(out)), b})
		part = chunk{Version: snapshotVersion, Resolution: res, Start: part.Start}
		size = 0
		return nil
	}
	for k, c := range w.cells {
		b, err := json.Marshal(cellRecord{k, c})
		if err != nil {
			return nil, fmt.Errorf("encoding a cell of window %s %d: %w", res, part.Start, err)
		}
		if size+len(b) > maxChunkBytes && len(part.Cells) > 0 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		part.Cells = append(part.Cells, b)
		size += len(b)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// capture takes a snapshot of generation gen: the chunks of every window
// that changed since prev (the writer's last snapshot), the state chunk, and
// the manifest naming them all (last). It holds m.fold, so what it encodes
// and the offsets it records agree. It returns the writer's new window state
// and the keys the manifest names.
func (m *Monitor) capture(gen int64, topic string, now time.Time, prev map[winID]writtenWindow) (recs []kv, next map[winID]writtenWindow, named []string, err error) {
	m.fold.Lock()
	defer m.fold.Unlock()
	a := m.Agg
	a.mu.RLock()
	defer a.mu.RUnlock()
	man := manifest{Version: snapshotVersion, Gen: gen, Topic: topic, Written: now, Offsets: make(map[int32]int64, len(m.next))}
	for p, o := range m.next {
		man.Offsets[p] = o
	}
	next = map[winID]writtenWindow{}
	for _, s := range a.series {
		for start, w := range s.windows {
			id := winID{s.res, start}
			if was, ok := prev[id]; ok && was.version == w.version {
				next[id] = was
				man.Chunks = append(man.Chunks, was.keys...)
				continue
			}
			parts, err := encodeWindow(gen, s.res, w)
			if err != nil {
				return nil, nil, nil, err
			}
			ww := writtenWindow{version: w.version}
			for _, p := range parts {
				ww.keys = append(ww.keys, p.key)
			}
			next[id] = ww
			man.Chunks = append(man.Chunks, ww.keys...)
			recs = append(recs, parts...)
		}
	}
	ledger := m.Ledger.Snapshot()
	st, err := json.Marshal(chunk{Version: snapshotVersion, Ledger: &ledger, Examples: a.examples.m, LastAdd: a.lastAdd})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encoding the ledger: %w", err)
	}
	stKey := fmt.Sprintf("s/%d", gen)
	recs = append(recs, kv{stKey, st})
	man.Chunks = append(man.Chunks, stKey)
	slices.Sort(man.Chunks)
	b, err := json.Marshal(man)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	recs = append(recs, kv{manifestKey, b})
	return recs, next, man.Chunks, nil
}

// errSnapshotUnusable is why a snapshot was ignored.
var errSnapshotUnusable = errors.New("snapshot unusable")

// decodeSnapshot checks that latest (the snapshot topic's newest value per
// key) holds a complete snapshot of the current version for topic, and
// decodes it. It returns (nil, nil) when there is no snapshot.
func decodeSnapshot(latest map[string][]byte, topic string) (*manifest, []chunk, error) {
	raw, ok := latest[manifestKey]
	if !ok {
		return nil, nil, nil
	}
	var man manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		return nil, nil, fmt.Errorf("%w: decoding the manifest: %v", errSnapshotUnusable, err)
	}
	if man.Version != snapshotVersion {
		return nil, nil, fmt.Errorf("%w: version %d, this build reads version %d", errSnapshotUnusable, man.Version, snapshotVersion)
	}
	if man.Topic != topic {
		return nil, nil, fmt.Errorf("%w: it is of outcome topic %q, not %q", errSnapshotUnusable, man.Topic, topic)
	}
	chunks := make([]chunk, 0, len(man.Chunks))
	for _, k := range man.Chunks {
		b, ok := latest[k]
		if !ok {
			return nil, nil, fmt.Errorf("%w: generation %d lacks chunk %s", errSnapshotUnusable, man.Gen, k)
		}
		var c chunk
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, nil, fmt.Errorf("%w: decoding chunk %s: %v", errSnapshotUnusable, k, err)
		}
		if c.Version != snapshotVersion {
			return nil, nil, fmt.Errorf("%w: chunk %s has version %d", errSnapshotUnusable, k, c.Version)
		}
		chunks = append(chunks, c)
	}
	return &man, chunks, nil
}

// restore loads a decoded snapshot into m, which Follow has not fed yet.
// Windows past retention now are left out.
func (m *Monitor) restore(man *manifest, chunks []chunk) error {
	a := m.Agg
	now := a.clock()
	wins := [3]map[int64]*window{{}, {}, {}}
	for _, c := range chunks {
		if c.Ledger != nil {
			continue
		}
		i := slices.Index(Resolutions, c.Resolution)
		if i < 0 {
			return fmt.Errorf("%w: unknown resolution %q", errSnapshotUnusable, c.Resolution)
		}
		w := wins[i][c.Start]
		if w == nil {
			w = &window{start: time.Unix(c.Start, 0).UTC(), cells: map[Key]*Counters{}}
			wins[i][c.Start] = w
		}
		if c.Values != nil {
			w.values = c.Values
		}
		for _, raw := range c.Cells {
			var cr cellRecord
			if err := json.Unmarshal(raw, &cr); err != nil || cr.Counters == nil {
				return fmt.Errorf("%w: decoding a cell of window %s %d: %v", errSnapshotUnusable, c.Resolution, c.Start, err)
			}
			w.cells[cr.Key] = cr.Counters
		}
	}
	m.fold.Lock()
	defer m.fold.Unlock()
	a.mu.Lock()
	for i, s := range a.series {
		s.windows, s.oldest = wins[i], 0
		a.evict(s, now.Add(-a.retention.of(s.res)))
	}
	for _, c := range chunks {
		if c.Ledger != nil {
			m.Ledger.restore(*c.Ledger)
			a.examples.m = maps.Clone(c.Examples)
			if a.examples.m == nil {
				a.examples.m = map[string][]string{}
			}
			a.lastAdd = c.LastAdd
		}
	}
	a.mu.Unlock()
	m.next = make(map[int32]int64, len(man.Offsets))
	for p, o := range man.Offsets {
		m.next[p] = o
	}
	return nil
}

// readLatest reads partition 0 of topic to the end it had when called and
// returns the newest value of each key (tombstones delete). A topic that does
// not exist yet is an error: the caller retries, since the pipeline creates
// its topics at start.
func readLatest(ctx context.Context, opts []kgo.Opt, topic string) (map[string][]byte, error) {
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))...)
	if err != nil {
		return nil, fmt.Errorf("connecting to kafka: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing the end of %s: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok {
		return nil, fmt.Errorf("listing the end of %s: no partition 0", topic)
	}
	latest := map[string][]byte{}
	for read := int64(-1); read+1 < end.Offset; {
		// The last offsets may hold no record (a compacted-away tail):
		// a quiet poll ends the read.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if fs.NumRecords() == 0 && pctx.Err() != nil {
			break
		}
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("reading %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			read = r.Offset
			if r.Value == nil {
				delete(latest, string(r.Key))
			} else {
				latest[string(r.Key)] = r.Value
			}
		})
	}
	return latest, nil
}

// LoadSnapshot restores m from the newest complete snapshot in topic (the
// snapshot topic) before Follow starts, so Follow counts only the outcomes
// after it. It returns whether a snapshot was restored. A missing, unknown-
// version or incomplete snapshot is not an error: m stays empty and Follow
// rebuilds it from what outcomes (the outcome topic) still holds. Listing
// or reading is retried until ctx ends (the topics may not exist yet on a
// first start), since going on without an existing snapshot would lose the
// history only it holds.
func LoadSnapshot(ctx context.Context, opts []kgo.Opt, topic, outcomes string, m *Monitor, log *slog.Logger) (bool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var latest map[string][]byte
	for attempt := 1; ; attempt++ {
		var err error
		if latest, err = readLatest(ctx, opts, topic); err == nil {
			break
		}
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		lvl := slog.LevelDebug
		if attempt >= 5 {
			lvl = slog.LevelWarn
		}
		log.Log(ctx, lvl, "reading the quality snapshot", "topic", topic, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	man, chunks, err := decodeSnapshot(latest, outcomes)
	if err == nil && man != nil {
		err = m.restore(man, chunks)
	}
	switch {
	case err != nil:
		log.Warn("ignoring the quality snapshot; rebuilding the report from what sp.outcomes holds", "topic", topic, "err", err)
		m.reset()
		return false, nil
	case man == nil:
		log.Info("no quality snapshot yet; building the report from sp.outcomes", "topic", topic)
		return false, nil
	}
	if err := m.checkOffsets(ctx, opts, outcomes, log); err != nil {
		return true, err
	}
	log.Info("restored the quality report from its snapshot", "generation", man.Gen, "written", man.Written, "windows", len(man.Chunks)-1)
	return true, nil
}

// reset empties what a failed restore may have half filled.
func (m *Monitor) reset() {
	m.fold.Lock()
	defer m.fold.Unlock()
	a := m.Agg
	a.mu.Lock()
	for _, s := range a.series {
		s.windows, s.oldest = map[int64]*window{}, 0
	}
	a.examples.m, a.lastAdd = map[string][]string{}, time.Time{}
	a.mu.Unlock()
	m.Ledger.restore(Snapshot{})
	m.next, m.resume = map[int32]int64{}, nil
}

// checkOffsets compares the snapshot's offsets with what outcomes holds now.
// Below a partition's log start, the outcomes in between were deleted
// before any snapshot counted them: they are lost, and Follow goes on from
// the log start. Past a partition's end, the topic was recreated: every
// record in it is new, so none is skipped.
func (m *Monitor) checkOffsets(ctx context.Context, opts []kgo.Opt, outcomes string, log *slog.Logger) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("connecting to kafka: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, outcomes)
	var ends kadm.ListedOffsets
	if err == nil {
		ends, err = adm.ListEndOffsets(ctx, outcomes)
	}
	if err != nil {
		// Not fatal: records below the offsets are skipped either way.
		log.Warn("listing sp.outcomes offsets to check the snapshot's", "err", err)
		return nil
	}
	m.fold.Lock()
	defer m.fold.Unlock()
	for p, off := range m.next {
		s, okS := starts.Lookup(outcomes, p)
		e, okE := ends.Lookup(outcomes, p)
		switch {
		case okE && e.Err == nil && off > e.Offset:
			log.Warn("the snapshot's offset is past the end of sp.outcomes (topic recreated?); counting the partition from its start", "partition", p, "snapshot_offset", off, "end", e.Offset)
			delete(m.next, p)
		case okS && s.Err == nil && off < s.Offset:
			log.Warn("sp.outcomes deleted records the snapshot had not counted; they are lost, following from the log start", "partition", p, "snapshot_offset", off, "log_start", s.Offset, "lost", s.Offset-off)
		}
	}
	// Follow starts a trace index's worth of records before each offset
	// (the records below it refill only the trace index), not at the
	// start of the topic.
	tail := int64(m.Traces.capacity)
	m.resume = map[int32]int64{}
	for _, s := range starts {
		for p, o := range s {
			if o.Err != nil {
				m.resume = nil
				return nil
			}
			m.resume[p] = o.Offset
			if next, ok := m.next[p]; ok {
				m.resume[p] = max(next-tail, o.Offset)
			}
		}
	}
	return nil
}

// ResumeOffsets are where Follow should start per partition after
// LoadSnapshot restored a snapshot (for FollowOpts); nil means from the
// start of the topic.
func (m *Monitor) ResumeOffsets() map[int32]int64 {
	m.fold.Lock()
	defer m.fold.Unlock()
	return maps.Clone(m.resume)
}

// chunkKeys lists the chunk keys in latest (everything but the manifest and
// the alerts record).
func chunkKeys(latest map[string][]byte) []string {
	var out []string
	for k := range latest {
		if strings.HasPrefix(k, "w/") || strings.HasPrefix(k, "s/") {
			out = append(out, k)
		}
	}
	return out
}
