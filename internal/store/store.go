// Package store is the process stage's partition-local state: one embedded
// Pebble database per assigned partition of sp.events, whose every write is
// mirrored to a compacted changelog topic (sp.state.<store>, partition for
// partition) inside the same Kafka transaction as the stage's outputs and
// offset commit.
//
// Why state and offsets never diverge: a handler's writes go to a pending
// batch (reads see it) and to changelog records produced in the open
// transaction. Only when the transaction has committed is the batch applied
// to the local database, together with a checkpoint: the changelog offset of
// the last record it reflects. An aborted transaction discards the batch, and
// its changelog records are invisible to read_committed readers. A crash
// between the commit and the local apply leaves the local copy behind the
// changelog, never ahead: on the next assignment the partition is caught up
// from its checkpoint to the changelog's last stable offset. The local disk
// is a cache; with no copy, an unusable one, or one older than MaxLocalAge
// (compaction may since have dropped tombstones it would need) the partition
// is restored from the start of the changelog.
//
// Why Pebble: it is pure Go (the static CGO_ENABLED=0 binary stays), it is
// an LSM tree built for write-heavy, point-lookup workloads like ours (every
// event reads and writes a person), its batches are atomic (data and
// checkpoint land together) and it is what CockroachDB runs in production.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// checkpointKey holds the changelog offset the local copy reflects and when
// it was written. Changelog keys never start with a zero byte.
var checkpointKey = []byte{0, 'c', 'p'}

// DefaultMaxLocalAge is how old a local copy may be and still be caught up
// from its checkpoint rather than restored in full; it stays below Kafka's
// default delete.retention.ms (24 h), after which compaction may have
// removed tombstones the copy would need.
const DefaultMaxLocalAge = 12 * time.Hour

// Producer queues a record in the open transaction; kafkax.Output is one.
type Producer interface {
	Produce(r *kgo.Record)
}

// Config describes one store.
type Config struct {
	// Name is the store's name; its changelog is Topic.
	Name string
	// Topic is the compacted changelog topic (sp.state.<name>).
	Topic string
	// Dir holds one database per partition (Dir/p<N>).
	Dir string
	// ClientOpts connect the restore consumer (brokers, TLS, SASL).
	ClientOpts []kgo.Opt
	// MaxLocalAge: see DefaultMaxLocalAge.
	MaxLocalAge time.Duration
	// RestoreTimeout bounds restoring one partition.
	RestoreTimeout time.Duration
	// RetryAfter is how long a partition that failed to open is left
	// before it is tried again; meanwhile asking for it returns the error
	// at once. Default DefaultRetryAfter.
	RetryAfter time.Duration
	// BeforeOpen, when set, runs in the opening goroutine before each
	// attempt to open a partition; an error fails the attempt. It is for
	// tests that make restores slow or failing.
	BeforeOpen func(ctx context.Context, partition int32) error
	// CacheBytes is the block cache all partitions share; MemTableBytes
	// the write buffer of each partition (up to two are held while one
	// flushes). Together they bound the store's memory.
	CacheBytes    int64
	MemTableBytes uint64
	Clock         func() time.Time
	Logger        *slog.Logger
}

// Store is one named store across the partitions this replica owns. Its
// methods are called from the stage's loop goroutine, except Revoke, which
// the group's rebalance callbacks may call at any time.
type Store struct {
	cfg   Config
	parts map[int32]*Partition
	cache *pebble.Cache

	// opening are the partitions being opened in the background, failed
	// when each last failed to open (restore.go).
	opening map[int32]*opening
	failed  map[int32]failure

	mu      sync.Mutex
	revoked map[int32]bool
	dropped map[int32]bool
}

// Open returns the store; partitions are opened on first use.
func Open(cfg Config) (*Store, error) {
	if cfg.Name == "" || cfg.Topic == "" || cfg.Dir == "" {
		return nil, errors.New("store: name, topic and dir are required")
	}
	if cfg.MaxLocalAge <= 0 {
		cfg.MaxLocalAge = DefaultMaxLocalAge
	}
	if cfg.RestoreTimeout <= 0 {
		cfg.RestoreTimeout = 5 * time.Minute
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.MemTableBytes <= 0 {
		cfg.MemTableBytes = DefaultMemTableBytes
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state dir: %w", err)
	}
	return &Store{cfg: cfg, parts: map[int32]*Partition{}, opening: map[int32]*opening{}, failed: map[int32]failure{}, revoked: map[int32]bool{}, dropped: map[int32]bool{}, cache: pebble.NewCache(cfg.CacheBytes)}, nil
}

// Memory defaults: see Config.CacheBytes.
const (
	DefaultCacheBytes    = 128 << 20 // config.DefaultStateCacheBytes says why
	DefaultMemTableBytes = 8 << 20
)

// Revoke marks partitions this replica no longer owns (or may have lost);
// they are closed on the loop goroutine at the next Partition or Commit
// call, and caught up from the changelog if they come back.
func (s *Store) Revoke(parts ...int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parts {
		s.revoked[p] = true
	}
}

// closeRevoked closes the partitions marked revoked.
func (s *Store) closeRevoked() {
	s.mu.Lock()
	rev, drop := s.revoked, s.dropped
	s.revoked, s.dropped = map[int32]bool{}, map[int32]bool{}
	s.mu.Unlock()
	for p := range rev {
		s.abandon(p)
		delete(s.failed, p)
		if pt, ok := s.parts[p]; ok {
			pt.close()
			delete(s.parts, p)
		}
		if drop[p] {
			s.removeCopy(p)
		}
	}
}

// Partition returns partition p, opening and catching it up from the
// changelog if it is not open, however long that takes (up to
// Config.RestoreTimeout); PartitionBy bounds the wait.
func (s *Store) Partition(ctx context.Context, p int32) (*Partition, error) {
	return s.PartitionBy(ctx, p, time.Time{})
}

// Commit makes the pending writes of every open partition durable locally;
// call it after the transaction that produced their changelog records has
// committed. Then it closes revoked partitions.
func (s *Store) Commit() error {
	var errs []error
	for p, pt := range s.parts {
		if err := pt.commit(s.cfg.Clock()); err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
			// The copy is behind its changelog now; reopening catches it up.
			pt.close()
			delete(s.parts, p)
		}
	}
	s.closeRevoked()
	return errors.Join(errs...)
}

// Discard drops the pending writes of every open partition; call it after
// the transaction aborted. Then it closes revoked partitions.
func (s *Store) Discard() {
	for _, pt := range s.parts {
		pt.discard()
	}
	s.closeRevoked()
}

// Close closes every partition. The store stays usable: a partition used
// again is reopened and caught up.
func (s *Store) Close() {
	for p := range s.opening {
		s.abandon(p)
	}
	clear(s.failed)
	for p, pt := range s.parts {
		pt.close()
		delete(s.parts, p)
	}
}

// Release closes the store for good and frees its cache.
func (s *Store) Release() {
	s.Close()
	s.cache.Unref()
}

func (s *Store) dir(p int32) string {
	return filepath.Join(s.cfg.Dir, "p"+strconv.Itoa(int(p)))
}

// Partition is one partition's database with the pending writes of the
// batch in hand.
type Partition struct {
	id      int32
	dir     string
	topic   string
	topicID [16]byte
	db      *pebble.DB
	pending *pebble.Batch
	// overlay holds the pending writes by key (nil: deleted) for reads:
	// a map lookup is far cheaper than reading through an indexed batch.
	overlay map[string][]byte
	// reader serves Gets for the batch in hand: one iterator, reused (the
	// database does not change until the batch commits), that also
	// consults the bottom level's bloom filters, which db.Get skips — and
	// most lookups are for keys that do not exist.
	reader *pebble.Iterator
	// sent are the changelog records of the pending writes; after the
	// commit their offsets are known, and the last one is the checkpoint.
	sent []*kgo.Record
}

// openDB opens one partition's database. Bloom filters on every level
// matter: most lookups (aliases, dedupe keys) are for keys that do not
// exist, and a filter answers those without reading a block.
func (s *Store) openDB(dir string) (*pebble.DB, error) {
	o := &pebble.Options{Logger: quietLogger{}, Cache: s.cache, MemTableSize: s.cfg.MemTableBytes,
		// A damaged table is reported by default through Logger.Fatalf,
		// which ends the process, and it would again after every restart
		// since the copy stays. Without that, the read returns the error
		// (a PartitionError), and the copy is dropped and restored.
		EventListener: &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}}}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return pebble.Open(dir, o)
}

// ID is the partition's number.
func (p *Partition) ID() int32 { return p.id }

// Get reads key, pending writes first. The value must not be modified.
func (p *Partition) Get(key []byte) ([]byte, bool, error) {
	if v, ok := p.overlay[string(key)]; ok {
		return v, v != nil, nil
	}
	if p.reader == nil {
		it, err := p.db.NewIter(&pebble.IterOptions{UseL6Filters: true})
		if err != nil {
			return nil, false, p.fail(err)
		}
		p.reader = it
	}
	if !p.reader.SeekPrefixGE(key) || !bytes.Equal(p.reader.Key(), key) {
		return nil, false, p.fail(p.reader.Error())
	}
	v, err := p.reader.ValueAndErr()
	if err != nil {
		return nil, false, p.fail(err)
	}
	return append([]byte(nil), v...), true, nil
}

// Set writes key locally (pending) and to the changelog in the open
// transaction. Key and value are kept: the caller must not modify them.
func (p *Partition) Set(out Producer, key, value []byte) error {
	if err := p.pending.Set(key, value, nil); err != nil {
		return err
	}
	if value == nil {
		value = []byte{} // nil marks a deletion in the overlay
	}
	p.overlay[string(key)] = value
	r := &kgo.Record{Topic: p.topic, Partition: p.id, Key: key, Value: value}
	p.sent = append(p.sent, r)
	out.Produce(r)
	return nil
}

// Delete removes key locally (pending) and writes its tombstone to the
// changelog in the open transaction.
func (p *Partition) Delete(out Producer, key []byte) error {
	if err := p.pending.Delete(key, nil); err != nil {
		return err
	}
	p.overlay[string(key)] = nil
	r := &kgo.Record{Topic: p.topic, Partition: p.id, Key: key}
	p.sent = append(p.sent, r)
	out.Produce(r)
	return nil
}

// Scan calls fn for each key in [lower, upper) with its value as the
// pending writes leave it, until fn returns false: first the keys already
// stored, in order, then keys first written in the open batch, in no
// particular order. Keys and values are valid only during the call.
func (p *Partition) Scan(lower, upper []byte, fn func(k, v []byte) bool) error {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return p.fail(err)
	}
	seen := 0
	more := true
	for ok := it.First(); ok && more; ok = it.Next() {
		k, v := it.Key(), it.Value()
		if pv, pending := p.overlay[string(k)]; pending {
			seen++
			if pv == nil {
				continue
			}
			v = pv
		}
		more = fn(k, v)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil || !more || seen == len(p.overlay) {
		return p.fail(err)
	}
	for k, v := range p.overlay {
		if v == nil || k < string(lower) || k >= string(upper) {
			continue
		}
		if _, stored, err := p.db.Get([]byte(k)); err == nil {
			_ = stored.Close()
			continue // visited above
		}
		if !fn([]byte(k), v) {
			break
		}
	}
	return nil
}

// Size flushes the partition's memtable and returns the size of its tables
// on disk in bytes, for sizing figures. The write-ahead log (at most about
// two memtables, Config.MemTableBytes each) comes on top.
func (p *Partition) Size() (uint64, error) {
	if err := p.db.Flush(); err != nil {
		return 0, err
	}
	var size uint64
	err := filepath.WalkDir(p.dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(d.Name()) != ".sst" {
			return err
		}
		info, err := d.Info()
		if err == nil {
			size += uint64(info.Size())
		}
		return err
	})
	return size, err
}

func (p *Partition) commit(now time.Time) error {
	if len(p.sent) == 0 {
		p.discard()
		return nil
	}
	last := p.sent[len(p.sent)-1].Offset
	if err := p.pending.Set(checkpointKey, encodeCheckpoint(last, now, p.topicID), nil); err != nil {
		return err
	}
	err := p.pending.Commit(pebble.NoSync)
	p.reset()
	return err
}

func (p *Partition) discard() {
	_ = p.pending.Close()
	p.reset()
}

// reset starts a new batch; the reader is made anew on first use, so it
// sees what the last batch committed.
func (p *Partition) reset() {
	if p.reader != nil {
		_ = p.reader.Close()
		p.reader = nil
	}
	p.pending = p.db.NewBatch()
	p.sent = p.sent[:0]
	p.overlay = map[string][]byte{}
}

func (p *Partition) close() {
	if p.reader != nil {
		_ = p.reader.Close()
		p.reader = nil
	}
	_ = p.pending.Close()
	_ = p.db.Close()
}

// A checkpoint is the changelog offset the copy reflects, when it was
// written, and the changelog topic's id: a copy made from another cluster's
// (or a deleted and recreated) topic of the same name is never caught up
// as if it were this one's.
func encodeCheckpoint(offset int64, at time.Time, topicID [16]byte) []byte {
	b := make([]byte, 32)
	binary.BigEndian.PutUint64(b, uint64(offset))
	binary.BigEndian.PutUint64(b[8:], uint64(at.UnixMilli()))
	copy(b[16:], topicID[:])
	return b
}

func decodeCheckpoint(b []byte) (offset int64, at time.Time, topicID [16]byte, ok bool) {
	if len(b) != 32 {
		return 0, time.Time{}, topicID, false
	}
	copy(topicID[:], b[16:])
	return int64(binary.BigEndian.Uint64(b)), time.UnixMilli(int64(binary.BigEndian.Uint64(b[8:]))), topicID, true
}

// open opens partition p's database and brings it level with the
// changelog: caught up from its checkpoint, or restored from the start.
func (s *Store) open(ctx context.Context, p int32) (*Partition, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RestoreTimeout)
	defer cancel()
	start, end, topicID, err := s.bounds(ctx, p)
	if err != nil {
		return nil, err
	}
	dir := s.dir(p)
	db, err := s.openDB(dir)
	if err != nil {
		// An unreadable copy is only a cache: start over from the changelog.
		s.cfg.Logger.Warn("local state unusable; restoring from the changelog", "store", s.cfg.Name, "partition", p, "err", err)
		if rerr := os.RemoveAll(dir); rerr != nil {
			return nil, fmt.Errorf("removing state of partition %d: %w", p, rerr)
		}
		if db, err = s.openDB(dir); err != nil {
			return nil, fmt.Errorf("opening state of partition %d: %w", p, err)
		}
	}
	from := start
	if v, closer, gerr := db.Get(checkpointKey); gerr == nil {
		off, at, id, ok := decodeCheckpoint(v)
		_ = closer.Close()
		usable := ok && id == topicID && off+1 >= start && off+1 <= end && s.cfg.Clock().Sub(at) <= s.cfg.MaxLocalAge
		if usable {
			from = off + 1
		} else {
			s.cfg.Logger.Info("local state does not match the changelog; restoring in full", "store", s.cfg.Name, "partition", p)
			_ = db.Close()
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("removing state of partition %d: %w", p, err)
			}
			if db, err = s.openDB(dir); err != nil {
				return nil, fmt.Errorf("opening state of partition %d: %w", p, err)
			}
		}
	}
	n, err := s.replay(ctx, db, p, from, end, topicID)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("restoring %s partition %d: %w", s.cfg.Topic, p, err)
	}
	if n > 0 {
		s.cfg.Logger.Info("state restored from changelog", "store", s.cfg.Name, "partition", p, "records", n)
	}
	pt := &Partition{id: p, dir: dir, topic: s.cfg.Topic, topicID: topicID, db: db}
	pt.reset()
	return pt, nil
}

// bounds returns the changelog partition's start offset, its last stable
// offset (the end a read_committed reader reaches) and the topic's id.
func (s *Store) bounds(ctx context.Context, p int32) (start, end int64, topicID [16]byte, err error) {
	cl, err := kgo.NewClient(s.cfg.ClientOpts...)
	if err != nil {
		return 0, 0, topicID, fmt.Errorf("connecting to kafka: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(ctx, s.cfg.Topic)
	if err != nil {
		return 0, 0, topicID, fmt.Errorf("describing %s: %w", s.cfg.Topic, err)
	}
	d, ok := td[s.cfg.Topic]
	if !ok || d.Err != nil {
		return 0, 0, topicID, fmt.Errorf("changelog topic %s is missing", s.cfg.Topic)
	}
	so, err := adm.ListStartOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return 0, 0, topicID, fmt.Errorf("listing start offsets of %s: %w", s.cfg.Topic, err)
	}
	eo, err := adm.ListCommittedOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return 0, 0, topicID, fmt.Errorf("listing end offsets of %s: %w", s.cfg.Topic, err)
	}
	so0, ok1 := so.Lookup(s.cfg.Topic, p)
	eo0, ok2 := eo.Lookup(s.cfg.Topic, p)
	if !ok1 || !ok2 || so0.Err != nil || eo0.Err != nil {
		return 0, 0, topicID, fmt.Errorf("changelog %s has no partition %d (is it created with as many partitions as the events topic?)", s.cfg.Topic, p)
	}
	return so0.Offset, eo0.Offset, d.ID, nil
}

// replay applies the changelog partition from offset from up to end to db.
// Control records are kept so the reader knows when it has reached end even
// when the last records are transaction markers.
func (s *Store) replay(ctx context.Context, db *pebble.DB, p int32, from, end int64, topicID [16]byte) (int, error) {
	if from >= end {
		return 0, nil
	}
	opts := append(append([]kgo.Opt(nil), s.cfg.ClientOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.Topic: {p: kgo.NewOffset().At(from)}}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("connecting to kafka: %w", err)
	}
	defer cl.Close()
	n := 0
	b := db.NewBatch()
	defer func() { _ = b.Close() }()
	flush := func(last int64) error {
		if err := b.Set(checkpointKey, encodeCheckpoint(last, s.cfg.Clock(), topicID), nil); err != nil {
			return err
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			return err
		}
		b.Reset()
		return nil
	}
	next := from
	for next < end {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("at offset %d of %d: %w", next, end, err)
		}
		for _, fe := range fs.Errors() {
			return n, fmt.Errorf("fetching: %w", fe.Err)
		}
		last := int64(-1)
		fs.EachRecord(func(r *kgo.Record) {
			last = r.Offset
			next = r.Offset + 1
			if r.Attrs.IsControl() {
				return
			}
			n++
			if r.Value == nil {
				_ = b.Delete(r.Key, nil)
			} else {
				_ = b.Set(r.Key, r.Value, nil)
			}
		})
		if last >= 0 {
			if err := flush(last); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// quietLogger keeps Pebble's informational lines out of the stage's log.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// Partitioner sends records of topics starting with changelogPrefix to the
// partition they name (a changelog partition mirrors the input partition
// its state belongs to) and every other record where fallback sends it.
func Partitioner(changelogPrefix string, fallback kgo.Partitioner) kgo.Partitioner {
	return partitioner{prefix: changelogPrefix, fallback: fallback, manual: kgo.ManualPartitioner()}
}

type partitioner struct {
	prefix           string
	fallback, manual kgo.Partitioner
}

// ForTopic picks the manual partitioner for changelog topics.
func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if len(topic) >= len(p.prefix) && topic[:len(p.prefix)] == p.prefix {
		return p.manual.ForTopic(topic)
	}
	return p.fallback.ForTopic(topic)
}
