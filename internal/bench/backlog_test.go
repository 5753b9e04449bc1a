package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// BenchmarkOutageBacklog: Meta is down while BACKLOG_EVENTS events (default
// 1,000,000) arrive. The backlog must wait in Kafka, so the deliver stage's
// memory stays flat. The broker (`signalpipe broker`) and the ingest and
// process stages (`signalpipe run --stages ingest,process`) run as separate
// processes, as on Kubernetes; the RSS reported is this process's: the
// deliver stage with the sandbox, the producer and the ledger. Then Meta
// recovers and the backlog drains: the drain rate is the deliver stage's
// throughput with the sandbox healthy.
func BenchmarkOutageBacklog(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BACKLOG_EVENTS")); err == nil && v > 0 {
		n = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	bin := buildBinary(b, ctx)
	addr := startBrokerProcess(b, ctx, bin)
	// As on Kubernetes, the deliver stage runs apart from ingest and
	// process (a second process below), so the RSS measured here is the
	// deliver stage's, with the sandbox, the producer and the ledger.
	st, err := demo.Start(ctx, demo.StackOptions{ExternalBroker: addr, SandboxMaxRecorded: -1, Stages: []string{"deliver"}, Tune: func(c *config.Config) {
		c.Deliver.Breaker = config.Breaker{Failures: 3, OpenFor: time.Second, MaxOpenFor: 2 * time.Second}
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	st.Sandbox.SetFault("meta", sandbox.Fault{Status: 503})
	startUpstream(b, ctx, bin, addr, st.Config.Destinations[0].Meta.Endpoint)

	var peak atomic.Int64
	sample := func() {
		if kb := rssKiB(); kb > peak.Load() {
			peak.Store(kb)
		}
	}
	stopSampling := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(200 * time.Millisecond):
				sample()
			}
		}
	}()
	defer close(stopSampling)

	b.ResetTimer()
	now := time.Now()
	const chunk = 20_000
	for start := 0; start < n; start += chunk {
		recs := make([]demo.Record, 0, chunk)
		for i := start; i < min(start+chunk, n); i++ {
			recs = append(recs, demo.Record{Topic: demo.TopicCRM, Value: []byte(fmt.Sprintf(
				`{"event_id":"bl-%d","event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"bl%d@example.com"},"properties":{"value":10,"currency":"USD"}}`,
				i, now.Add(-time.Hour).UTC().Format(time.RFC3339), i))})
		}
		if _, err := st.Produce(ctx, recs); err != nil {
			b.Fatal(err)
		}
		if start%(10*chunk) == 0 {
			fmt.Fprintf(os.Stderr, "\rproduced %d of %d, routed %d, RSS %d MiB   ", start+len(recs), n, st.Ledger.Snapshot().Routed, rssKiB()/1024)
		}
	}
	// Wait until process has routed everything: the backlog is in sp.out.meta.
	for st.Ledger.Snapshot().Routed < int64(n) {
		if ctx.Err() != nil {
			b.Fatalf("routed %d of %d", st.Ledger.Snapshot().Routed, n)
		}
		pause(ctx, 200*time.Millisecond)
	}
	pause(ctx, 3*time.Second) // the backlog sits; memory must not grow
	backlogPeak := peak.Load()
	if p := os.Getenv("BACKLOG_HEAP_PROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}

	st.Sandbox.ClearFaults()
	drainStart := time.Now()
	for {
		s := st.Ledger.Snapshot()
		if s.ByDestination["meta"]["delivered"] >= int64(n) {
			break
		}
		if ctx.Err() != nil {
			b.Fatalf("drained %d of %d", s.ByDestination["meta"]["delivered"], n)
		}
		pause(ctx, 100*time.Millisecond)
	}
	drain := time.Since(drainStart)
	fmt.Fprintf(os.Stderr, "\r\033[K")
	b.ReportMetric(float64(backlogPeak)/1024, "backlog-peak-RSS-MiB")
	b.ReportMetric(float64(peak.Load())/1024, "peak-RSS-MiB")
	b.ReportMetric(drain.Seconds(), "drain-s")
	b.ReportMetric(float64(n)/drain.Seconds(), "drain-events/s")
	b.ReportMetric(float64(n), "backlog-events")
	b.ReportMetric(0, "ns/op")
}

// buildBinary builds signalpipe for the benchmark's other processes.
func buildBinary(b *testing.B, ctx context.Context) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "signalpipe")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/signalpipe/signalpipe/cmd/signalpipe").CombinedOutput(); err != nil {
		b.Fatalf("building: %v\n%s", err, out)
	}
	return bin
}

// startUpstream runs ingest and process in their own process, as their
// own Deployment would, feeding sp.out.meta for the in-process deliver stage.
func startUpstream(b *testing.B, ctx context.Context, bin, broker, sandboxURL string) {
	b.Helper()
	dir := b.TempDir()
	cfg := filepath.Join(dir, "upstream.yaml")
	text := fmt.Sprintf(`
kafka: {brokers: [%q], create_topics: true, partitions: 6, instance_id: upstream}
inputs: [{topic: %s, source: web}, {topic: %s, source: app}, {topic: %s, source: crm}]
ingest: {max_record_bytes: 262144}
destinations:
  - {type: meta, meta: {pixel_id: "1", access_token_env: UPSTREAM_UNUSED, endpoint: %q}}
process: {state_dir: %q, consent: {unknown: send}}
server: {listen: ""}
log: {level: warn}
`, broker, demo.TopicWeb, demo.TopicApp, demo.TopicCRM, sandboxURL, filepath.Join(dir, "state"))
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg, "--stages", "ingest,process")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// startBrokerProcess runs `signalpipe broker` on a free loopback port until
// ctx ends.
func startBrokerProcess(b *testing.B, ctx context.Context, bin string) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, bin, "broker", "--listen", addr)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("broker did not listen on %s: %v", addr, err)
		}
		pause(ctx, 50*time.Millisecond) // waiting for the port
	}
}

// rssKiB is this process's resident set size.
func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return 0
}
