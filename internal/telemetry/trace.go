package telemetry

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// TracingConfigured reports whether the standard OpenTelemetry environment
// names an OTLP endpoint for traces (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); only then are traces sent.
func TracingConfigured(getenv func(string) string) bool {
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// StartTracing exports spans over OTLP/HTTP to the endpoint the standard
// OTEL_EXPORTER_OTLP_* variables name (headers, TLS and timeouts as they
// say). It returns the shutdown that flushes what is buffered.
func (m *Metrics) StartTracing(ctx context.Context, version string) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting the OTLP trace exporter: %w", err)
	}
	host, _ := os.Hostname()
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("signalpipe"), semconv.ServiceVersion(version), semconv.ServiceInstanceID(host))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	m.tracer = tp.Tracer("github.com/signalpipe/signalpipe")
	return tp.Shutdown, nil
}

// Wrap times every batch a stage handles (signalpipe.stage.batch.duration)
// and, with tracing started, records it as a span carrying the stage, the
// record count and the first record's topic/partition/offset (never a
// record's content). It fits app.Options.WrapHandler.
func (m *Metrics) Wrap(stage string, h kafkax.Handler) kafkax.Handler {
	attrs := metric.WithAttributes(attribute.String("stage", stage))
	return func(ctx context.Context, recs []*kgo.Record, out *kafkax.Output) error {
		tracer := m.tracer
		if tracer == nil {
			tracer = noop.NewTracerProvider().Tracer("")
		}
		var kv []attribute.KeyValue
		kv = append(kv, attribute.String("signalpipe.stage", stage), attribute.Int("signalpipe.records", len(recs)))
		if len(recs) > 0 {
			kv = append(kv, attribute.String("messaging.destination.name", recs[0].Topic),
				attribute.Int("messaging.kafka.destination.partition", int(recs[0].Partition)), attribute.Int64("messaging.kafka.message.offset", recs[0].Offset))
		}
		ctx, span := tracer.Start(ctx, "signalpipe."+stage+".batch", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(kv...))
		start := time.Now()
		err := h(ctx, recs, out)
		m.batchTime.Record(ctx, time.Since(start).Seconds(), attrs)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "batch failed")
		}
		span.End()
		return err
	}
}
