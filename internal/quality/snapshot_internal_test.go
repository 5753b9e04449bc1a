package quality

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
)

// TestSnapshotChunksAndCleanup: a window with thousands of cells is split
// into chunks far below Kafka's 1 MiB message limit; after a second
// snapshot the topic holds exactly what the newest manifest names (the
// superseded chunks are deleted), a third with nothing new writes nothing,
// and restoring it gives the same report.
func TestSnapshotChunksAndCleanup(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "sp.quality.snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(50 * time.Millisecond)}
	now := time.Now().UTC()
	m := NewMonitor(Config{MaxCells: 20000}, MonitorOptions{})
	add := func(names, per int, at time.Time) {
		for i := range names {
			for j := range per {
				m.Add(event.Outcome{Record: fmt.Sprintf("r/%d/%d", i, j), EventID: fmt.Sprintf("e-%d-%d", i, j), EventName: fmt.Sprintf("event_%d", i),
					Source: event.SourceWeb, Destination: "meta", Status: event.StatusRejected, Reason: fmt.Sprintf("reason_%d", j), At: at})
			}
		}
	}
	add(6000, 2, now.Add(-time.Hour))
	sn, err := NewSnapshotter(m, SnapshotterOptions{Opts: opts, Topic: "sp.quality.snapshots", Outcomes: "sp.outcomes", Leader: func() (bool, uint64) { return true, 1 }})
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	if err := sn.Write(ctx); err != nil {
		t.Fatal(err)
	}
	add(10, 1, now) // changes the current windows only
	if err := sn.Write(ctx); err != nil {
		t.Fatal(err)
	}

	end := func() int64 {
		t.Helper()
		o, err := kadm.NewClient(sn.cl).ListEndOffsets(ctx, "sp.quality.snapshots")
		if err != nil {
			t.Fatal(err)
		}
		e, _ := o.Lookup("sp.quality.snapshots", 0)
		return e.Offset
	}
	before := end()
	if err := sn.Write(ctx); err != nil {
		t.Fatal(err)
	}
	if after := end(); after != before {
		t.Errorf("a snapshot with nothing new wrote %d records", after-before)
	}

	latest, err := readLatest(ctx, opts, "sp.quality.snapshots")
	if err != nil {
		t.Fatal(err)
	}
	man, chunks, err := decodeSnapshot(latest, "sp.outcomes")
	if err != nil || man == nil {
		t.Fatalf("decoding the snapshot: %v (manifest %v)", err, man)
	}
	parts := map[string]int{}
	for _, k := range man.Chunks {
		if n := len(latest[k]); n > 1<<20/2 {
			t.Errorf("chunk %s is %d bytes, near the 1 MiB message limit", k, n)
		}
		var c chunk
		_ = json.Unmarshal(latest[k], &c)
		parts[fmt.Sprintf("%s/%d", c.Resolution, c.Start)]++
	}
	hour := fmt.Sprintf("%s/%d", Hour, truncate(now.Add(-time.Hour), Hour).Unix())
	if parts[hour] < 2 {
		t.Errorf("the hour window of 6000 event names is in %d chunk(s), want it split", parts[hour])
	}
	if got, want := slices.Sorted(slices.Values(chunkKeys(latest))), man.Chunks; !slices.Equal(got, want) {
		t.Errorf("the topic holds %d chunks, the manifest names %d: superseded chunks were not deleted", len(got), len(want))
	}

	r := NewMonitor(Config{MaxCells: 20000}, MonitorOptions{})
	if err := r.restore(man, chunks); err != nil {
		t.Fatal(err)
	}
	q := Query{Since: now.Add(-2 * time.Hour), Until: now.Add(time.Minute), Resolution: Hour}
	got, want := r.Report(q), m.Report(q)
	if got.Totals.Rejected != 6000*2+10 || got.Totals.Rejected != want.Totals.Rejected || len(got.EventNames) != len(want.EventNames) ||
		got.Totals.RejectedByReason["reason_1"] != 6000 {
		t.Errorf("restored report: %d rejected over %d event names (reason_1: %d); the original: %d over %d",
			got.Totals.Rejected, len(got.EventNames), got.Totals.RejectedByReason["reason_1"], want.Totals.Rejected, len(want.EventNames))
	}
	if l := r.Ledger.Snapshot(); l.Terminal != 6000*2+10 || l.ByDestination["meta"][event.StatusRejected] != 6000*2+10 {
		t.Errorf("restored ledger: %+v", l)
	}
}
