package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/quality"
)

// TestRunKeepsReportInSnapshots: `signalpipe run` with the status page is
// the only quality replica, so it leads; it snapshots the report, and the
// next start restores the snapshot and shows the same ledger.
func TestRunKeepsReportInSnapshots(t *testing.T) {
	// Not parallel: it sets an environment variable.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, _, sbURL := brokerAndMeta(t, map[string]string{"777": "s3cret-token"})
	t.Setenv("TEST_META_TOKEN", "s3cret-token")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	path := runConfig(t, b.Addr, sbURL, fmt.Sprintf("server: {listen: %q}\nquality: {snapshot_every: 1s}", addr))
	if err := b.Cluster.CreateTopic("crm.deals", 3, nil); err != nil {
		t.Fatal(err)
	}
	status := func() (quality.Status, error) {
		var st quality.Status
		resp, err := http.Get("http://" + addr + "/api/v1/status")
		if err != nil {
			return st, err
		}
		defer resp.Body.Close()
		return st, json.NewDecoder(resp.Body).Decode(&st)
	}
	waitLog := func(log *syncBuffer, done chan int, what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("gave up waiting: %s; log:\n%s", what, log.String())
			case code := <-done:
				t.Fatalf("run exited early with %d; log:\n%s", code, log.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	stopRun := func(stop context.CancelFunc, log *syncBuffer, done chan int) {
		t.Helper()
		stop()
		if code := <-done; code != 0 {
			t.Fatalf("run exited %d; log:\n%s", code, log.String())
		}
	}

	rctx, stop := context.WithCancel(ctx)
	log, done := startRun(rctx, path)
	prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 10
	for i := range n {
		v := fmt.Sprintf(`{"event_id":"deal-%d","event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"c%d@example.com"}}`, i, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), i)
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "crm.deals", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var first quality.Status
	waitLog(log, done, "the report counts every deal as delivered", func() bool {
		st, err := status()
		first = st
		return err == nil && st.Ledger.Outcomes["delivered"] == n
	})
	waitLog(log, done, "the only quality replica leads", func() bool {
		st, err := status()
		return err == nil && st.Extra["quality_leader"] == true
	})
	// Two snapshot intervals: the last one holds every outcome.
	pauseUntil := time.Now().Add(2500 * time.Millisecond)
	waitLog(log, done, "two snapshot intervals", func() bool { return time.Now().After(pauseUntil) })
	stopRun(stop, log, done)

	rctx, stop = context.WithCancel(ctx)
	log, done = startRun(rctx, path)
	defer stop()
	waitLog(log, done, "the restart restores the snapshot", func() bool {
		return strings.Contains(log.String(), "restored the quality report from its snapshot")
	})
	var again quality.Status
	waitLog(log, done, "the restarted report counts every deal", func() bool {
		st, err := status()
		again = st
		return err == nil && st.Ledger.Outcomes["delivered"] >= n
	})
	if again.Ledger.Outcomes["delivered"] != n || again.Ledger.Routed != first.Ledger.Routed || again.Ledger.Terminal != first.Ledger.Terminal {
		t.Errorf("after the restart the ledger is %+v, before it was %+v", again.Ledger, first.Ledger)
	}
	stopRun(stop, log, done)
}
