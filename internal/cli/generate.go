package cli

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
)

// generateCmd produces the demo's realistic traffic to any Kafka cluster, so
// a pipeline on real Kafka (docker compose, a staging cluster) has something
// to chew on.
func generateCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("generate", io)
	brokers := fs.String("brokers", "", "Kafka brokers, HOST:PORT[,HOST:PORT…] (required)")
	rate := fs.Int("rate", 200, "events per second")
	events := fs.Int("events", 0, "stop after N events (0: until stopped)")
	seed := fs.Uint64("seed", 1, "seed of the generator (same seed, same traffic)")
	topics := fs.String("topics", "web=events.web,app=events.app,crm=events.crm", "input topic per source")
	maxBytes := fs.Int("max-record-bytes", config.DefaultMaxRecordBytes, "the ingest limit; oversized test records exceed it")
	if code, done := parse(fs, args); done {
		return code
	}
	if *brokers == "" {
		fmt.Fprintln(io.Err, "signalpipe generate: --brokers is required")
		return exitUsage
	}
	if *rate < 1 {
		fmt.Fprintln(io.Err, "signalpipe generate: --rate must be at least 1")
		return exitUsage
	}
	t := demo.Topics{}
	for _, kv := range strings.Split(*topics, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		switch {
		case !ok || v == "":
			fmt.Fprintf(io.Err, "signalpipe generate: --topics: %q is not SOURCE=TOPIC\n", kv)
			return exitUsage
		case k == "web":
			t.Web = v
		case k == "app":
			t.App = v
		case k == "crm":
			t.CRM = v
		default:
			fmt.Fprintf(io.Err, "signalpipe generate: --topics: unknown source %q (web, app, crm)\n", k)
			return exitUsage
		}
	}
	if t.Web == "" || t.App == "" || t.CRM == "" {
		fmt.Fprintln(io.Err, "signalpipe generate: --topics must name a topic for web, app and crm")
		return exitUsage
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*brokers, ",")...), kgo.ProducerLinger(10*time.Millisecond), kgo.AllowAutoTopicCreation())
	if err != nil {
		return fail(io, "generate: %v", err)
	}
	defer cl.Close()
	gen := demo.NewGenerator(*seed, time.Now, t, demo.DefaultMix, *maxBytes)
	tick := time.NewTicker(time.Second / 20)
	defer tick.Stop()
	perTick := max(*rate/20, 1)
	report := time.NewTicker(5 * time.Second)
	defer report.Stop()
	sent := 0
	var failed atomic.Int64
	fmt.Fprintf(io.Err, "generating %d events/s to %s (web → %s, app → %s, crm → %s); Ctrl-C stops\n", *rate, *brokers, t.Web, t.App, t.CRM)
	for *events == 0 || sent < *events {
		select {
		case <-ctx.Done():
			_ = cl.Flush(context.Background())
			fmt.Fprintf(io.Err, "stopped after %d events (%d failed to produce)\n", sent, failed.Load())
			return exitOK
		case <-report.C:
			fmt.Fprintf(io.Err, "%d events produced (%d failed)\n", sent, failed.Load())
		case <-tick.C:
			for i := 0; i < perTick && (*events == 0 || sent < *events); i++ {
				r := gen.Next()
				cl.Produce(ctx, &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}, func(_ *kgo.Record, err error) {
					if err != nil {
						failed.Add(1)
					}
				})
				sent++
			}
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return fail(io, "generate: flushing: %v", err)
	}
	fmt.Fprintf(io.Err, "%d events produced (%d failed)\n", sent, failed.Load())
	if failed.Load() > 0 {
		return exitFailed
	}
	return exitOK
}
