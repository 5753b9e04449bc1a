package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
)

// kafkaDefaultMaxMessage is Kafka's default message.max.bytes; oversized
// test records are the ingest limit plus oversizeMargin.
const (
	kafkaDefaultMaxMessage = 1048588
	oversizeMargin         = 2048
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
	mix := demo.DefaultMix
	if *maxBytes+oversizeMargin > kafkaDefaultMaxMessage {
		// A record over the ingest limit would also be over the broker's, so
		// Kafka itself would refuse it; such records cannot reach ingest.
		mix.Oversized = 0
		fmt.Fprintf(io.Err, "not generating oversized records: above --max-record-bytes %d they would exceed Kafka's default message.max.bytes (%d)\n", *maxBytes, kafkaDefaultMaxMessage)
	}
	gen := demo.NewGenerator(*seed, time.Now, t, mix, *maxBytes)
	var produced, failed atomic.Int64
	fmt.Fprintf(io.Err, "generating %d events/s to %s (web → %s, app → %s, crm → %s); Ctrl-C stops\n", *rate, *brokers, t.Web, t.App, t.CRM)
	done := make(chan int, 1)
	go func() {
		done <- demo.Pace(ctx, cl, gen, *rate, *events, func(_ demo.Record, _ *kgo.Record, err error) {
			switch {
			case err == nil:
				produced.Add(1)
			case ctx.Err() != nil && errors.Is(err, context.Canceled):
				// Stopped: records still buffered are dropped, not failed.
			default:
				if failed.Add(1) == 1 {
					fmt.Fprintf(io.Err, "producing failed: %v\n", err)
				}
			}
		})
	}()
	report := time.NewTicker(5 * time.Second)
	defer report.Stop()
	var sent int
wait:
	for {
		select {
		case sent = <-done:
			break wait
		case <-report.C:
			fmt.Fprintf(io.Err, "%d events produced (%d failed)\n", produced.Load(), failed.Load())
		}
	}
	_ = cl.Flush(context.WithoutCancel(ctx)) // what was handed over before a stop
	fmt.Fprintf(io.Err, "%d events generated, %d produced, %d failed\n", sent, produced.Load(), failed.Load())
	if failed.Load() > 0 {
		return exitFailed
	}
	return exitOK
}
