package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
	"github.com/signalpipe/signalpipe/internal/store/storetest"
)

const topic = "sp.state.test"

// cluster starts kfake with the changelog topic and returns client options.
func cluster(t testing.TB, partitions int32) []kgo.Opt {
	t.Helper()
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", partitions, topic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return []kgo.Opt{kgo.SeedBrokers(b.Addr), kgo.MetadataMinAge(100 * time.Millisecond)}
}

// txn is a transactional producer standing in for the stage's session.
type txn struct {
	t  testing.TB
	cl *kgo.Client
}

func newTxn(t testing.TB, base []kgo.Opt, id string) *txn {
	t.Helper()
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), base...),
		kgo.TransactionalID(id),
		kgo.RecordPartitioner(store.Partitioner("sp.state.", kgo.StickyKeyPartitioner(nil))),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &txn{t: t, cl: cl}
}

// run writes inside one transaction and ends it with commit or abort; it
// returns whether it committed.
func (x *txn) run(ctx context.Context, commit bool, write func(out *kafkax.Output)) {
	x.t.Helper()
	if err := x.cl.BeginTransaction(); err != nil {
		x.t.Fatal(err)
	}
	out := kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) { x.cl.Produce(ctx, r, p) })
	write(out)
	if err := x.cl.Flush(ctx); err != nil {
		x.t.Fatal(err)
	}
	if err := out.Err(); err != nil {
		x.t.Fatal(err)
	}
	if err := x.cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		x.t.Fatal(err)
	}
}

// withCluster is cluster with a context that ends with the test (at the
// latest after a minute).
func withCluster(t *testing.T, partitions int32) (context.Context, []kgo.Opt) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx, cluster(t, partitions)
}

func open(t testing.TB, base []kgo.Opt, dir string, clock func() time.Time) *store.Store {
	t.Helper()
	s, err := store.Open(store.Config{Name: "test", Topic: topic, Dir: dir, ClientOpts: base, Clock: clock, RestoreTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Release)
	return s
}

func get(t testing.TB, ctx context.Context, s *store.Store, p int32, key string) (string, bool) {
	t.Helper()
	pt, err := s.Partition(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := pt.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

// TestRestoreFromChangelog writes committed, deleted and aborted state,
// then checks what a replica sees after each way of coming back: a lost
// disk (full restore), a crash between the commit and the local apply
// (catch-up from the checkpoint), and a copy left behind while another
// replica owned the partition (catch-up).
func TestRestoreFromChangelog(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := cluster(t, 2)
	now := time.Now()
	clock := func() time.Time { return now }
	dirA := t.TempDir()
	a := open(t, base, dirA, clock)
	x := newTxn(t, base, "writer-a")

	pt, err := a.Partition(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	x.run(ctx, true, func(out *kafkax.Output) {
		for _, k := range []string{"kept", "deleted", "overwritten"} {
			if err := pt.Set(out, []byte(k), []byte("v1")); err != nil {
				t.Fatal(err)
			}
		}
	})
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	x.run(ctx, true, func(out *kafkax.Output) {
		_ = pt.Delete(out, []byte("deleted"))
		_ = pt.Set(out, []byte("overwritten"), []byte("v2"))
	})
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	x.run(ctx, false, func(out *kafkax.Output) {
		_ = pt.Set(out, []byte("aborted"), []byte("v1"))
		if v, ok, _ := pt.Get([]byte("aborted")); !ok || string(v) != "v1" {
			t.Error("a pending write is not visible to reads in its own batch")
		}
	})
	a.Discard()
	// Committed in Kafka, but the replica "crashes" before applying locally.
	x.run(ctx, true, func(out *kafkax.Output) { _ = pt.Set(out, []byte("unapplied"), []byte("v1")) })
	a.Close()

	want := map[string]string{"kept": "v1", "overwritten": "v2", "unapplied": "v1"}
	absent := []string{"deleted", "aborted"}
	check := func(name string, s *store.Store) {
		defer s.Close() // the next check opens the same directory
		for k, v := range want {
			if got, ok := get(t, ctx, s, 1, k); !ok || got != v {
				t.Errorf("%s: %s = %q (present %v), want %q", name, k, got, ok, v)
			}
		}
		for _, k := range absent {
			if _, ok := get(t, ctx, s, 1, k); ok {
				t.Errorf("%s: %s is present", name, k)
			}
		}
		if _, ok := get(t, ctx, s, 0, "kept"); ok {
			t.Errorf("%s: partition 0 holds partition 1's state", name)
		}
	}
	check("same disk after a crash", open(t, base, dirA, clock))
	dirB := t.TempDir()
	check("new disk", open(t, base, dirB, clock))
	b := open(t, base, dirB, clock)

	// b owns partition 1 for a while and writes; a's copy falls behind.
	ptb, err := b.Partition(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	newTxn(t, base, "writer-b").run(ctx, true, func(out *kafkax.Output) { _ = ptb.Set(out, []byte("kept"), []byte("v3")) })
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	want["kept"] = "v3"
	check("old disk after a rebalance", open(t, base, dirA, clock))

	// A copy older than MaxLocalAge is not trusted: it is rebuilt in full
	// and still ends level with the changelog.
	later := now.Add(store.DefaultMaxLocalAge + time.Hour)
	check("stale disk", open(t, base, dirA, func() time.Time { return later }))

	// The same directory against another cluster whose changelog of the
	// same name is longer: the copy is not "caught up" into it.
	other := cluster(t, 2)
	o := open(t, other, t.TempDir(), clock)
	pto, err := o.Partition(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	xo := newTxn(t, other, "writer-other")
	for i := 0; i < 10; i++ {
		xo.run(ctx, true, func(out *kafkax.Output) { _ = pto.Set(out, []byte(fmt.Sprint("other-", i)), []byte("x")) })
		if err := o.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	foreign := open(t, other, dirA, clock)
	if _, ok := get(t, ctx, foreign, 1, "kept"); ok {
		t.Error("a local copy from another cluster's changelog was kept")
	}
	if v, ok := get(t, ctx, foreign, 1, "other-9"); !ok || v != "x" {
		t.Errorf("other cluster's state: other-9 = %q (present %v)", v, ok)
	}
}

// TestRevokeClosesAndCatchesUp: a revoked partition is closed at the next
// commit, and coming back it sees what another replica wrote meanwhile.
func TestRevokeClosesAndCatchesUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := cluster(t, 1)
	a := open(t, base, t.TempDir(), nil)
	b := open(t, base, t.TempDir(), nil)
	if _, ok := get(t, ctx, a, 0, "k"); ok {
		t.Fatal("empty store has k")
	}
	a.Revoke(0)
	a.Discard()
	ptb, err := b.Partition(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	newTxn(t, base, "b").run(ctx, true, func(out *kafkax.Output) { _ = ptb.Set(out, []byte("k"), []byte("from-b")) })
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, ok := get(t, ctx, a, 0, "k"); !ok || v != "from-b" {
		t.Errorf("after reassignment k = %q (present %v), want from-b", v, ok)
	}
}

// BenchmarkRestore measures restoring a partition from its changelog, per
// key (quote ns/key × 1e6 for the time per million keys).
func BenchmarkRestore(b *testing.B) {
	ctx := context.Background()
	base := cluster(b, 1)
	const keys = 200_000
	w := open(b, base, b.TempDir(), nil)
	pt, err := w.Partition(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	x := newTxn(b, base, "bench")
	val := make([]byte, 120)
	for i := 0; i < keys; i += 10_000 {
		x.run(ctx, true, func(out *kafkax.Output) {
			for j := i; j < i+10_000; j++ {
				_ = pt.Set(out, []byte(fmt.Sprintf("p%032d", j)), val)
			}
		})
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := store.Open(store.Config{Name: "test", Topic: topic, Dir: filepath.Join(b.TempDir(), fmt.Sprint(i)), ClientOpts: base})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Partition(ctx, 0); err != nil {
			b.Fatal(err)
		}
		s.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/keys*1e6/1e9, "s/1M-keys")
}

// TestPartitionByGoesOnRestoringInBackground: a batch that may wait only a
// little gets ErrNotReady while the restore is slow; the next calls neither
// start the restore again nor wait for it again (however long they could),
// and the partition comes back with its state once the restore ends.
func TestPartitionByGoesOnRestoringInBackground(t *testing.T) {
	t.Parallel()
	ctx, base := withCluster(t, 1)
	w := open(t, base, t.TempDir(), nil)
	pt, err := w.Partition(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	x := newTxn(t, base, "writer")
	x.run(ctx, true, func(out *kafkax.Output) { _ = pt.Set(out, []byte("pk"), []byte("v")) })
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{})
	var attempts atomic.Int32
	s, err := store.Open(store.Config{Name: "test", Topic: topic, Dir: t.TempDir(), ClientOpts: base, RestoreTimeout: 30 * time.Second,
		BeforeOpen: func(ctx context.Context, _ int32) error {
			attempts.Add(1)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Release)
	for i, bound := range []time.Duration{50 * time.Millisecond, 20 * time.Second, 20 * time.Second} {
		start := time.Now()
		if _, err := s.PartitionBy(ctx, 0, start.Add(bound)); !errors.Is(err, store.ErrNotReady) {
			t.Fatalf("call %d, slow restore: err = %v, want ErrNotReady", i, err)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Fatalf("call %d waited %s on a restore already waited for", i, waited)
		}
	}
	close(release)
	got, err := s.Partition(ctx, 0) // no deadline: waits for the restore in flight
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := got.Get([]byte("pk")); err != nil || !ok || string(v) != "v" {
		t.Errorf("restored pk = %q %v %v, want v", v, ok, err)
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("restore started %d times, want once across the calls", n)
	}
}

// TestPartitionByFailedOpenRetriesLater: a partition that fails to open
// returns the error, returns it again at once within RetryAfter without a
// new attempt, and opens once the cause is gone.
func TestPartitionByFailedOpenRetriesLater(t *testing.T) {
	t.Parallel()
	ctx, base := withCluster(t, 1)
	broken := errors.New("disk full")
	var failing atomic.Bool
	failing.Store(true)
	var attempts atomic.Int32
	s, err := store.Open(store.Config{Name: "test", Topic: topic, Dir: t.TempDir(), ClientOpts: base, RetryAfter: 200 * time.Millisecond,
		BeforeOpen: func(context.Context, int32) error {
			attempts.Add(1)
			if failing.Load() {
				return broken
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Release)
	if _, err := s.PartitionBy(ctx, 0, time.Now().Add(5*time.Second)); !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the open's error", err)
	}
	if _, err := s.PartitionBy(ctx, 0, time.Now().Add(5*time.Second)); !errors.Is(err, broken) {
		t.Fatalf("second call: err = %v, want the same error", err)
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d attempts within RetryAfter, want 1", n)
	}
	failing.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.PartitionBy(ctx, 0, time.Now().Add(5*time.Second))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partition never opened after the cause went away: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCorruptCopyIsDroppedAndRestored: a local copy whose tables are
// damaged fails reads with a PartitionError; dropped, it is rebuilt from
// the changelog and reads again what was committed.
func TestCorruptCopyIsDroppedAndRestored(t *testing.T) {
	t.Parallel()
	ctx, base := withCluster(t, 1)
	dir := t.TempDir()
	s := open(t, base, dir, nil)
	pt, err := s.Partition(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	const keys = 2000
	x := newTxn(t, base, "writer")
	x.run(ctx, true, func(out *kafkax.Output) {
		for i := range keys {
			_ = pt.Set(out, []byte(fmt.Sprintf("k%05d", i)), bytes.Repeat([]byte{'v'}, 100))
		}
	})
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := pt.Size(); err != nil { // flushes the memtable into tables
		t.Fatal(err)
	}
	s.Close()
	damaged := storetest.DamageTables(t, filepath.Join(dir, "p0"))

	pt, err = s.Partition(ctx, 0)
	if err != nil {
		t.Fatalf("the damaged copy did not even open: %v", err)
	}
	var failed error
	for i := 0; i < keys && failed == nil; i++ {
		_, _, failed = pt.Get([]byte(fmt.Sprintf("k%05d", i)))
	}
	var pe *store.PartitionError
	if !errors.As(failed, &pe) || pe.Partition != 0 {
		t.Fatalf("reading the damaged copy: err = %v, want a PartitionError for partition 0", failed)
	}
	s.Drop(0)
	s.Discard()
	pt, err = s.Partition(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if v, ok, err := pt.Get([]byte(fmt.Sprintf("k%05d", i))); err != nil || !ok || len(v) != 100 {
			t.Fatalf("after the restore k%05d = %d bytes, %v, %v; want the committed value", i, len(v), ok, err)
		}
	}
	if still := storetest.StillDamaged(filepath.Join(dir, "p0"), damaged); len(still) > 0 {
		t.Errorf("tables %v are still the damaged ones after the drop", still)
	}
}
