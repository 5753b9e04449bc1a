// Package telemetry exposes signalpipe's OpenTelemetry metrics for
// Prometheus on /metrics: per stage throughput and batch sizes (from each
// committed transaction), consumer lag per group, outcomes, retries and
// event-to-outcome latency per destination, and each destination's breaker
// state. Labels are bounded: stage and destination names come from config,
// statuses from a fixed list; never event ids or personal data.
//
// It uses the OpenTelemetry SDK with its Prometheus exporter (the
// project-wide standard, so OTLP can be added without re-instrumenting) on
// a registry of its own: no global state.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Options are the metrics' sources besides what is pushed in.
type Options struct {
	// Breakers returns each destination's breaker state (closed, half_open,
	// open); nil when this process delivers nothing.
	Breakers func() map[string]string
	// Lag returns each consumer group's total lag; see LagPoller.
	Lag func() map[string]int64
	// Validations returns how many records ingest validated on the
	// schema's fast path and in the library; nil when this process does
	// not ingest.
	Validations func() (fast, library uint64)
}

// Metrics are the pipeline's instruments.
type Metrics struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler

	consumed, produced metric.Int64Counter
	batch              metric.Int64Histogram
	outcomes           metric.Int64Counter
	retries            metric.Int64Counter
	degraded           metric.Int64Counter
	latency            metric.Float64Histogram
	batchTime          metric.Float64Histogram
	// tracer is nil until StartTracing.
	tracer trace.Tracer
}

// New builds the instruments and the /metrics handler.
func New(o Options) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("starting the prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	meter := mp.Meter("github.com/signalpipe/signalpipe")
	m := &Metrics{provider: mp, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	var errs []error
	must := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	m.consumed, err = meter.Int64Counter("signalpipe.stage.records.consumed", metric.WithDescription("Records consumed and committed, per stage."), metric.WithUnit("{record}"))
	must(err)
	m.produced, err = meter.Int64Counter("signalpipe.stage.records.produced", metric.WithDescription("Records produced in committed transactions (next topic, DLQ, outcomes), per stage."), metric.WithUnit("{record}"))
	must(err)
	m.batch, err = meter.Int64Histogram("signalpipe.stage.batch.size", metric.WithDescription("Records per committed transaction, per stage."), metric.WithUnit("{record}"),
		metric.WithExplicitBucketBoundaries(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000))
	must(err)
	m.outcomes, err = meter.Int64Counter("signalpipe.outcomes", metric.WithDescription("Outcomes read from sp.outcomes, per stage, destination and status (every replica reads all of them: aggregate with max, not sum)."), metric.WithUnit("{outcome}"))
	must(err)
	m.retries, err = meter.Int64Counter("signalpipe.delivery.retries", metric.WithDescription("Send attempts beyond the first, per destination."), metric.WithUnit("{attempt}"))
	must(err)
	m.degraded, err = meter.Int64Counter("signalpipe.process.degraded", metric.WithDescription("Events the process stage routed without the person's state, per reason (state_unavailable, state_error): sent unenriched and not deduplicated."), metric.WithUnit("{event}"))
	must(err)
	m.latency, err = meter.Float64Histogram("signalpipe.outcome.latency", metric.WithDescription("Event time to outcome, per stage and destination."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400, 604800))
	must(err)
	m.batchTime, err = meter.Float64Histogram("signalpipe.stage.batch.duration", metric.WithDescription("Time to handle one batch (decode, route or send to the platform), per stage."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	must(err)
	if o.Breakers != nil {
		_, err = meter.Int64ObservableGauge("signalpipe.breaker.state", metric.WithDescription("Circuit breaker per destination: 0 closed, 1 half-open, 2 open."),
			metric.WithInt64Callback(func(_ context.Context, ob metric.Int64Observer) error {
				for d, s := range o.Breakers() {
					ob.Observe(breakerValue(s), metric.WithAttributes(attribute.String("destination", d)))
				}
				return nil
			}))
		must(err)
	}
	if o.Lag != nil {
		_, err = meter.Int64ObservableGauge("signalpipe.consumer.lag", metric.WithDescription("Records not yet consumed, per consumer group."), metric.WithUnit("{record}"),
			metric.WithInt64Callback(func(_ context.Context, ob metric.Int64Observer) error {
				for g, n := range o.Lag() {
					ob.Observe(n, metric.WithAttributes(attribute.String("group", g)))
				}
				return nil
			}))
		must(err)
	}
	if o.Validations != nil {
		_, err = meter.Int64ObservableCounter("signalpipe.ingest.validations", metric.WithDescription("Records ingest validated, per path: fast (the schema's screen was certain the record is valid) or library (invalid records, and valid ones the screen was not certain of, at about 8 times the CPU)."), metric.WithUnit("{record}"),
			metric.WithInt64Callback(func(_ context.Context, ob metric.Int64Observer) error {
				fast, library := o.Validations()
				ob.Observe(int64(fast), metric.WithAttributes(attribute.String("path", "fast")))
				ob.Observe(int64(library), metric.WithAttributes(attribute.String("path", "library")))
				return nil
			}))
		must(err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("creating instruments: %v", errs)
	}
	return m, nil
}

func breakerValue(s string) int64 {
	switch s {
	case "open":
		return 2
	case "half_open":
		return 1
	}
	return 0
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// OnCommit counts one committed transaction of a stage; it fits
// app.Options.OnCommit.
func (m *Metrics) OnCommit(stage string, consumed, produced int) {
	ctx := context.Background()
	attrs := metric.WithAttributes(attribute.String("stage", stage))
	m.consumed.Add(ctx, int64(consumed), attrs)
	m.produced.Add(ctx, int64(produced), attrs)
	m.batch.Record(ctx, int64(consumed), attrs)
}

// stageOf names the stage that wrote an outcome.
func stageOf(o event.Outcome) string {
	switch {
	case o.Destination != "":
		return "deliver"
	case o.Status == event.StatusInvalid && o.EventName == "":
		return "ingest"
	}
	return "process"
}

// Outcome counts one outcome; it fits quality.Monitor.Observe.
func (m *Metrics) Outcome(o event.Outcome) {
	ctx := context.Background()
	st := stageOf(o)
	attrs := metric.WithAttributes(attribute.String("stage", st), attribute.String("destination", o.Destination), attribute.String("status", string(o.Status)))
	m.outcomes.Add(ctx, 1, attrs)
	if o.Status == event.StatusRouted && o.Degraded != "" {
		m.degraded.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", o.Degraded)))
	}
	if o.Attempts > 1 {
		m.retries.Add(ctx, int64(o.Attempts-1), metric.WithAttributes(attribute.String("destination", o.Destination)))
	}
	if !o.EventTime.IsZero() && !o.At.IsZero() {
		m.latency.Record(ctx, max(o.At.Sub(o.EventTime).Seconds(), 0), metric.WithAttributes(attribute.String("stage", st), attribute.String("destination", o.Destination)))
	}
}

// Shutdown stops the meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error { return m.provider.Shutdown(ctx) }

// LagPoller reads the consumer groups' lag every interval, so a scrape never
// waits on the broker.
type LagPoller struct {
	Admin    *kadm.Client
	Groups   []string
	Interval time.Duration
	Logger   *slog.Logger

	mu  sync.Mutex
	lag map[string]int64
	err error
}

// Run polls until ctx ends.
func (p *LagPoller) Run(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		p.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *LagPoller) poll(ctx context.Context) {
	lags, err := p.Admin.Lag(ctx, p.Groups...)
	out := map[string]int64{}
	if err == nil {
		for g, l := range lags {
			if l.Error() == nil {
				out[g] = l.Lag.Total()
			}
		}
	} else if p.Logger != nil && ctx.Err() == nil {
		p.Logger.Warn("reading consumer lag", "err", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
	if err == nil {
		p.lag = out
	}
}

// Lag returns the last lag read per group.
func (p *LagPoller) Lag() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lag
}

// Err returns the last poll's error: nil while the broker answers.
func (p *LagPoller) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
