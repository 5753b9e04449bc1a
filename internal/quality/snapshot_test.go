package quality_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/quality"
)

const (
	outTopic    = "sp.outcomes"
	snapTopic   = "sp.quality.snapshots"
	leaderTopic = "sp.quality.leader"
)

// snapCluster is a kfake broker with the quality stage's topics.
type snapCluster struct {
	t    *testing.T
	c    *kfake.Cluster
	opts []kgo.Opt
	prod *kgo.Client
}

// newSnapCluster starts the broker; the context bounds the test.
func newSnapCluster(t *testing.T, partitions int32) (*snapCluster, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, outTopic), kfake.SeedTopics(1, snapTopic, leaderTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50 * time.Millisecond), kgo.HeartbeatInterval(100 * time.Millisecond)}
	prod, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return &snapCluster{t: t, c: c, opts: opts, prod: prod}, ctx
}

// tally is what the test produced, counted on its own: per day, records
// received, delivered and rejected.
type tally struct {
	received, delivered, rejected map[time.Time]int64
	n                             int
}

func newTally() *tally {
	return &tally{received: map[time.Time]int64{}, delivered: map[time.Time]int64{}, rejected: map[time.Time]int64{}}
}

func (tl *tally) sum(m map[time.Time]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

// produce writes one input record's outcomes per time in ats: routed to
// meta, then delivered, or rejected for every fourth.
func (sc *snapCluster) produce(ctx context.Context, tl *tally, ats ...time.Time) {
	sc.t.Helper()
	var recs []*kgo.Record
	for _, at := range ats {
		i := tl.n
		tl.n++
		id, rec := fmt.Sprintf("ev-%d", i), fmt.Sprintf("events.web/0/%d", i)
		day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		recs = append(recs, kafkax.OutcomeRecord(outTopic, event.Outcome{Record: rec, EventID: id, EventName: "purchase", Source: event.SourceWeb, Status: event.StatusRouted, Destinations: []string{"meta"}, At: at}))
		o := event.Outcome{Record: rec, EventID: id, EventName: "purchase", Source: event.SourceWeb, Destination: "meta", Status: event.StatusDelivered, EventTime: at.Add(-time.Second), MatchKeys: []string{"em"}, At: at}
		if i%4 == 0 {
			o.Status, o.Reason = event.StatusRejected, "invalid_parameter"
			tl.rejected[day]++
		} else {
			tl.delivered[day]++
		}
		tl.received[day]++
		recs = append(recs, kafkax.OutcomeRecord(outTopic, o))
	}
	if err := sc.prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		sc.t.Fatal(err)
	}
}

// replica is one quality replica: a Monitor fed by Follow, and, when
// elected, a Snapshotter.
type replica struct {
	// restored says whether LoadSnapshot restored a snapshot.
	restored bool
	mon      *quality.Monitor
	el       *quality.Elector
	snap     *quality.Snapshotter
	stop     func()
}

type replicaOpts struct {
	cfg     quality.Config
	clock   func() time.Time
	restore bool // load the snapshot before following
	elect   bool
	log     *slog.Logger
}

func (sc *snapCluster) start(ctx context.Context, o replicaOpts) *replica {
	sc.t.Helper()
	m := quality.NewMonitor(o.cfg, quality.MonitorOptions{Clock: o.clock})
	restored := false
	if o.restore {
		var err error
		if restored, err = quality.LoadSnapshot(ctx, sc.opts, snapTopic, outTopic, m, o.log); err != nil {
			sc.t.Fatal(err)
		}
	}
	from := m.ResumeOffsets()
	m.CatchUp = quality.NewCatchUp(time.Now())
	m.CatchUp.Resumed(from)
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, sc.opts...), quality.FollowOpts(outTopic, from)...)...)
	if err != nil {
		sc.t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	go m.CatchUp.Listen(rctx, kadm.NewClient(cl), outTopic, time.Hour, nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); quality.Follow(rctx, cl, m, nil) }()
	r := &replica{mon: m, restored: restored}
	if o.elect {
		if r.el, err = quality.Elect(sc.opts, "test-quality-leader", leaderTopic, nil); err != nil {
			sc.t.Fatal(err)
		}
		if r.snap, err = quality.NewSnapshotter(m, quality.SnapshotterOptions{Opts: sc.opts, Topic: snapTopic, Outcomes: outTopic, Leader: r.el.Leader, Clock: o.clock}); err != nil {
			sc.t.Fatal(err)
		}
		m.Alerter.Leader, m.Alerter.Persist = r.snap.Leading, r.snap.PersistAlerts
		wg.Add(1)
		// Only the test writes snapshots (Write); Run takes over when elected.
		go func() { defer wg.Done(); r.snap.Run(rctx, time.Hour) }()
	}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			if r.el != nil {
				r.el.Close()
			}
			cancel()
			cl.Close()
			wg.Wait()
			if r.snap != nil {
				r.snap.Close()
			}
		})
	}
	sc.t.Cleanup(r.stop)
	return r
}

// snapshotOnce runs a leading replica until it has read the tl outcomes,
// has it write one snapshot, and stops it.
func (sc *snapCluster) snapshotOnce(ctx context.Context, tl *tally) {
	sc.t.Helper()
	a := sc.start(ctx, replicaOpts{elect: true})
	waitFor(ctx, sc.t, "replica a reads the backlog", func() bool { return terminal(a) == int64(tl.n) })
	waitFor(ctx, sc.t, "replica a leads", a.snap.Leading)
	if err := a.snap.Write(ctx); err != nil {
		sc.t.Fatal(err)
	}
	a.stop()
}

// deleteAll deletes every record sp.outcomes holds, as retention would.
func (sc *snapCluster) deleteAll(ctx context.Context) {
	sc.t.Helper()
	adm := kadm.NewClient(sc.prod)
	ends, err := adm.ListEndOffsets(ctx, outTopic)
	if err != nil {
		sc.t.Fatal(err)
	}
	dels, err := adm.DeleteRecords(ctx, ends.Offsets())
	if err == nil {
		err = dels.Error()
	}
	if err != nil {
		sc.t.Fatalf("deleting records: %v", err)
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting: %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// terminal is how many terminal outcomes a replica has counted.
func terminal(r *replica) int64 { return r.mon.Ledger.Snapshot().Terminal }

// checkDays compares a replica's daily series over the last 30 days with
// the tally, day by day, and the ledger with the report.
func checkDays(t *testing.T, r *replica, tl *tally, now time.Time) {
	t.Helper()
	rep := r.mon.Report(quality.Query{Since: now.Add(-30 * 24 * time.Hour), Until: now.Add(time.Hour), Resolution: quality.Day})
	seen := 0
	for _, p := range rep.Series {
		d := p.Start.UTC()
		if p.Received != tl.received[d] || p.Delivered != tl.delivered[d] || p.Rejected != tl.rejected[d] {
			t.Errorf("day %s: received %d delivered %d rejected %d, want %d %d %d", d.Format(time.DateOnly), p.Received, p.Delivered, p.Rejected, tl.received[d], tl.delivered[d], tl.rejected[d])
		}
		if tl.received[d] > 0 {
			seen++
		}
	}
	if seen != len(tl.received) {
		t.Errorf("the series has %d of the %d days produced", seen, len(tl.received))
	}
	// The 30-day view, as the report page picks it: hourly windows.
	hourly := r.mon.Report(quality.Query{Since: now.Add(-30 * 24 * time.Hour), Until: now.Add(time.Hour)})
	if hourly.Resolution != quality.Hour {
		t.Errorf("the 30-day report is at %s resolution, want hour", hourly.Resolution)
	}
	for _, got := range []quality.Report{rep, hourly} {
		if got.Totals.Delivered != tl.sum(tl.delivered) || got.Totals.Rejected != tl.sum(tl.rejected) {
			t.Errorf("%s totals delivered %d rejected %d, want %d %d", got.Resolution, got.Totals.Delivered, got.Totals.Rejected, tl.sum(tl.delivered), tl.sum(tl.rejected))
		}
	}
	l := r.mon.Ledger.Snapshot()
	if l.Outcomes[event.StatusDelivered] != rep.Totals.Delivered || l.Routed != rep.Totals.Routed || l.Terminal != l.Expected {
		t.Errorf("the ledger (%d delivered, %d routed, %d of %d terminal) disagrees with the report (%d delivered, %d routed)",
			l.Outcomes[event.StatusDelivered], l.Routed, l.Terminal, l.Expected, rep.Totals.Delivered, rep.Totals.Routed)
	}
}

// TestSnapshotRestoresPastRetention: outcomes spanning three weeks are
// counted and snapshotted, then deleted from sp.outcomes (retention); a
// fresh replica restores the snapshot and its report still shows every day.
func TestSnapshotRestoresPastRetention(t *testing.T) {
	t.Parallel()
	sc, ctx := newSnapCluster(t, 3)
	now := time.Now().UTC()
	tl := newTally()
	var old []time.Time
	for h := 21 * 24; h > 24; h -= 5 {
		old = append(old, now.Add(-time.Duration(h)*time.Hour))
	}
	sc.produce(ctx, tl, old...)
	sc.snapshotOnce(ctx, tl)
	sc.deleteAll(ctx)
	recent := []time.Time{now.Add(-time.Hour), now.Add(-30 * time.Minute), now.Add(-time.Minute)}
	sc.produce(ctx, tl, recent...)

	var logs bytes.Buffer
	b := sc.start(ctx, replicaOpts{restore: true, log: slog.New(slog.NewTextHandler(&logs, nil))})
	if !b.restored {
		t.Fatalf("replica b restored no snapshot: %s", logs.String())
	}
	// Retention deleted only what the snapshot had counted.
	if bytes.Contains(logs.Bytes(), []byte("they are lost")) {
		t.Errorf("warned of lost outcomes: %s", logs.String())
	}
	// Partitions the recent outcomes missed start at their end: caught up
	// without a record to read.
	waitFor(ctx, t, "replica b catches up", b.mon.CatchUp.Done)
	if got := terminal(b); got != int64(tl.n) {
		t.Errorf("replica b counted %d terminal outcomes, want %d", got, tl.n)
	}
	checkDays(t, b, tl, now)
	if _, ok := b.mon.Traces.Get("ev-0"); ok {
		t.Error("the trace index has ev-0, whose outcomes sp.outcomes no longer holds")
	}
}

// TestSnapshotNoDoubleCount: snapshots taken while outcomes keep arriving,
// then a fresh replica that restores the last one and reads sp.outcomes
// from the start (nothing deleted), so the snapshot and the topic overlap:
// every outcome is counted exactly once.
func TestSnapshotNoDoubleCount(t *testing.T) {
	t.Parallel()
	sc, ctx := newSnapCluster(t, 4)
	now := time.Now().UTC()
	tl := newTally()
	a := sc.start(ctx, replicaOpts{elect: true})
	waitFor(ctx, t, "replica a leads", a.snap.Leading)
	for round := range 5 {
		var ats []time.Time
		for i := range 40 {
			ats = append(ats, now.Add(-time.Duration(round*40+i)*97*time.Minute))
		}
		sc.produce(ctx, tl, ats...)
		// Snapshot while Follow may be mid-batch.
		if err := a.snap.Write(ctx); err != nil {
			t.Fatal(err)
		}
	}
	snapped := tl.n
	sc.produce(ctx, tl, now.Add(-2*time.Minute), now.Add(-time.Minute))
	waitFor(ctx, t, "replica a reads everything", func() bool { return terminal(a) == int64(tl.n) })
	a.stop()

	b := sc.start(ctx, replicaOpts{restore: true})
	if !b.restored {
		t.Fatal("replica b restored no snapshot")
	}
	waitFor(ctx, t, "replica b reads everything", func() bool { return terminal(b) >= int64(tl.n) })
	waitFor(ctx, t, "replica b's trace index has the first outcomes", func() bool { _, ok := b.mon.Traces.Get("ev-0"); return ok })
	if got := terminal(b); got != int64(tl.n) {
		t.Errorf("replica b counted %d terminal outcomes, want %d (%d before the last snapshot)", got, tl.n, snapped)
	}
	checkDays(t, b, tl, now)

	// With a trace index of 5 events, a replica starts 5 records before
	// the snapshot's offsets, not at the start of the topic.
	c := sc.start(ctx, replicaOpts{restore: true, cfg: quality.Config{TraceEvents: 5}})
	waitFor(ctx, t, "replica c catches up", c.mon.CatchUp.Done)
	if got := terminal(c); got != int64(tl.n) {
		t.Errorf("replica c counted %d terminal outcomes, want %d", got, tl.n)
	}
	if _, ok := c.mon.Traces.Get("ev-0"); ok {
		t.Error("replica c read sp.outcomes from the start")
	}
	checkDays(t, c, tl, now)
}

// TestSnapshotUnusableIgnored: a snapshot of an unknown version, or one
// whose manifest names a chunk that is not there (half written), is
// ignored with a warning, and the report is rebuilt from sp.outcomes.
func TestSnapshotUnusableIgnored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		manifest string
		warning  string
	}{
		// Offsets past everything: were the manifest used, every outcome
		// would be skipped.
		{"unknown version", `{"version":99,"gen":1,"topic":"sp.outcomes","offsets":{"0":100000,"1":100000},"chunks":[]}`, "version 99"},
		{"chunk missing", `{"version":1,"gen":1,"topic":"sp.outcomes","offsets":{"0":100000,"1":100000},"chunks":["s/1"]}`, "lacks chunk s/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc, ctx := newSnapCluster(t, 2)
			now := time.Now().UTC()
			tl := newTally()
			sc.produce(ctx, tl, now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour), now.Add(-time.Minute))
			if err := sc.prod.ProduceSync(ctx, &kgo.Record{Topic: snapTopic, Key: []byte("manifest"), Value: []byte(tt.manifest)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			r := sc.start(ctx, replicaOpts{restore: true, log: slog.New(slog.NewTextHandler(&logs, nil))})
			if r.restored {
				t.Error("the snapshot was restored")
			}
			if !bytes.Contains(logs.Bytes(), []byte(tt.warning)) || !bytes.Contains(logs.Bytes(), []byte("level=WARN")) {
				t.Errorf("no warning naming %q: %s", tt.warning, logs.String())
			}
			waitFor(ctx, t, "the replica rebuilds from sp.outcomes", func() bool { return terminal(r) == int64(tl.n) })
			checkDays(t, r, tl, now)
		})
	}
}

// TestSnapshotBelowLogStart: retention deletes outcomes no snapshot counted.
// They are lost: the restored replica says so, and counts what the snapshot
// held and what came after, nothing twice.
func TestSnapshotBelowLogStart(t *testing.T) {
	t.Parallel()
	sc, ctx := newSnapCluster(t, 1)
	now := time.Now().UTC()
	kept := newTally()
	sc.produce(ctx, kept, now.Add(-50*time.Hour), now.Add(-49*time.Hour))
	sc.snapshotOnce(ctx, kept)
	// Two more input records (four outcomes), then retention deletes them
	// too, before any snapshot counted them.
	lost := newTally()
	lost.n = kept.n // distinct event ids
	sc.produce(ctx, lost, now.Add(-48*time.Hour), now.Add(-47*time.Hour))
	kept.n = lost.n
	sc.deleteAll(ctx)
	sc.produce(ctx, kept, now.Add(-time.Minute))

	var logs bytes.Buffer
	b := sc.start(ctx, replicaOpts{restore: true, log: slog.New(slog.NewTextHandler(&logs, nil))})
	if !b.restored {
		t.Fatalf("no snapshot restored: %s", logs.String())
	}
	if !bytes.Contains(logs.Bytes(), []byte("they are lost")) || !bytes.Contains(logs.Bytes(), []byte("lost=4")) {
		t.Errorf("no warning that 4 outcomes were lost: %s", logs.String())
	}
	waitFor(ctx, t, "replica b catches up", b.mon.CatchUp.Done)
	waitFor(ctx, t, "replica b counts the outcome after the deletion", func() bool { return terminal(b) >= 3 })
	checkDays(t, b, kept, now)
}
