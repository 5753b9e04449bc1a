// Package bench holds the benchmarks `make bench` runs: the whole path on
// the embedded broker and sandbox, and the per-event transform alone. They
// report events/s and CPU µs per event, the figures the issues target.
package bench

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/cli"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/destination/meta"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/schema"
)

// TestMain runs the benchmarks with the binary's runtime settings.
func TestMain(m *testing.M) {
	cli.TuneRuntime()
	os.Exit(m.Run())
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEndToEnd pushes 50,000 generated records (the demo's mix, bad
// ones included) through ingest → process → deliver on kfake to the Meta
// sandbox on loopback, and waits until every record has its outcome. The
// CPU figure is the whole process: broker, sandbox and pipeline together.
func BenchmarkEndToEnd(b *testing.B) {
	const n = 50000
	ctx := context.Background()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	gen := demo.NewGenerator(3, time.Now, demo.Topics{Web: demo.TopicWeb, App: demo.TopicApp, CRM: demo.TopicCRM}, demo.DefaultMix, st.Config.Ingest.MaxRecordBytes)
	b.ResetTimer()
	var total time.Duration
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		recs := make([]demo.Record, n)
		for j := range recs {
			recs[j] = gen.Next()
		}
		b.StartTimer()
		start, c0 := time.Now(), cpuTime()
		inputs, err := st.Produce(ctx, recs)
		if err != nil {
			b.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		if _, err := st.WaitBalanced(wctx, inputs); err != nil {
			cancel()
			b.Fatal(err)
		}
		cancel()
		total += time.Since(start)
		cpu += cpuTime() - c0
	}
	events := float64(n * b.N)
	b.ReportMetric(events/total.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkTransform is the per-event work without Kafka or HTTP: decode,
// validate, normalize, hash and encode one web purchase for Meta.
func BenchmarkTransform(b *testing.B) {
	raw, err := os.ReadFile("../../schemas/examples/web_purchase.json")
	if err != nil {
		b.Fatal(err)
	}
	v, err := schema.New()
	if err != nil {
		b.Fatal(err)
	}
	dec := ingest.NewDecoder(v, ingest.DecodeOptions{})
	mc := meta.Config{PixelID: "1", AccessTokenEnv: "T"}
	mc.ApplyDefaults()
	origin := event.Origin{Topic: "events.web"}
	received := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		ev, err := dec.Decode(raw, origin, received)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mc.Prepare(&ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N)/1000, "cpu-µs/event")
}
