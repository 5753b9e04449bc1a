package faulttest

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/deliver"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// TestFaultLongOutageExportsNearExpiry: Meta is down for what the pipeline's
// clock sees as days. Events that come within the margin of Meta's 7-day
// limit are written to the offline-upload file — exactly those, in Meta's
// columns, with Meta's hashes — and recorded degraded_exported; younger ones
// wait in Kafka; after recovery the waiting ones are delivered and the
// exported ones are never sent.
func TestFaultLongOutageExportsNearExpiry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var skew atomic.Int64 // the injectable clock: real time plus a jump
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	dir := t.TempDir()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true, Clock: clock, Tune: func(c *config.Config) {
		c.Deliver.InitialBackoff = 20 * time.Millisecond
		c.Deliver.MaxBackoff = 100 * time.Millisecond
		c.Deliver.Breaker = config.Breaker{Failures: 2, OpenFor: 300 * time.Millisecond, MaxOpenFor: 300 * time.Millisecond}
		c.Deliver.RetryTiers = []time.Duration{time.Second, 10 * time.Second}
		c.Deliver.Degraded = config.Degraded{Dir: dir, Margin: 24 * time.Hour, Every: 200 * time.Millisecond}
		c.Destinations[0].Meta.Linger = 20 * time.Millisecond
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Sandbox.SetFault("meta", sandbox.Fault{Status: 503})

	// Ten events 6.5 days old (inside the 24 h margin of 7 days), ten an
	// hour old.
	now := clock()
	var recs []demo.Record
	var oldIDs, freshIDs []string
	for i := 0; i < 20; i++ {
		id, age := fmt.Sprintf("fresh-%d", i), time.Hour
		if i%2 == 0 {
			id, age = fmt.Sprintf("old-%d", i), 156*time.Hour
			oldIDs = append(oldIDs, id)
		} else {
			freshIDs = append(freshIDs, id)
		}
		recs = append(recs, demo.Record{Topic: demo.TopicCRM, Value: []byte(fmt.Sprintf(
			`{"event_id":%q,"event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":" %s@Example.com"},"properties":{"value":12.5,"currency":"eur","order_id":"o-%s"}}`,
			id, now.Add(-age).UTC().Format(time.RFC3339), id, id))})
	}
	inputs, err := st.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}

	// The old ones are exported while Meta is down.
	var rows []map[string]string
	for len(rows) < len(oldIDs) {
		rows = readExports(t, filepath.Join(dir, "meta"))
		if ctx.Err() != nil {
			t.Fatalf("%d of %d rows exported; breaker %s", len(rows), len(oldIDs), st.App.Breakers()["meta"])
		}
		pause(ctx, 50*time.Millisecond)
	}
	if s := st.App.Breakers()["meta"]; s == deliver.BreakerClosed {
		t.Errorf("breaker %s while Meta is down", s)
	}

	// A day passes on the pipeline's clock: the fresh ones are 25 h old,
	// still far from the limit, and must keep waiting.
	skew.Store(int64(24 * time.Hour))
	pause(ctx, time.Second) // give sweeps a chance to do the wrong thing
	if got := readExports(t, filepath.Join(dir, "meta")); len(got) != len(oldIDs) {
		t.Errorf("%d rows exported after a day, want still %d", len(got), len(oldIDs))
	}

	st.Sandbox.ClearFaults()
	if _, err := st.WaitBalanced(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	snap := st.Ledger.Snapshot()
	if got := snap.ByDestination["meta"]; got["degraded_exported"] != int64(len(oldIDs)) || got["delivered"] != int64(len(freshIDs)) {
		t.Errorf("meta outcomes %v, want %d degraded_exported and %d delivered", got, len(oldIDs), len(freshIDs))
	}
	var sent []string
	for _, e := range st.Sandbox.Meta().Events() {
		sent = append(sent, e.EventID)
	}
	slices.Sort(sent)
	sent = slices.Compact(sent)
	slices.Sort(freshIDs)
	if !slices.Equal(sent, freshIDs) {
		t.Errorf("Meta received %v, want exactly the fresh events %v (exported ones must not be sent)", sent, freshIDs)
	}

	// The file: Meta's columns, one row per old event, hashes per Meta's
	// rules computed here independently.
	rows = readExports(t, filepath.Join(dir, "meta"))
	var exported []string
	for _, r := range rows {
		exported = append(exported, r["event_id"])
		email := r["event_id"] + "@example.com"
		sum := sha256.Sum256([]byte(email))
		if r["email"] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: email column %q is not sha256(%q)", r["event_id"], r["email"], email)
		}
		if r["event_name"] != "ClosedDeal" || r["value"] != "12.5" || r["currency"] != "EUR" || r["order_id"] != "o-"+r["event_id"] {
			t.Errorf("row %v", r)
		}
	}
	slices.Sort(exported)
	slices.Sort(oldIDs)
	if !slices.Equal(exported, oldIDs) {
		t.Errorf("exported %v, want %v", exported, oldIDs)
	}
}

// readExports reads every export file in dir as rows keyed by header.
func readExports(t *testing.T, dir string) []map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	var out []map[string]string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		all, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, row := range all[1:] {
			m := map[string]string{}
			for i, h := range all[0] {
				m[h] = row[i]
			}
			out = append(out, m)
		}
	}
	return out
}
