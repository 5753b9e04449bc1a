package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// otlpReceiver is an OTLP/HTTP trace endpoint that keeps the span names and
// attribute values it receives.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string][]string
	raw   []byte
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req collector.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
		http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.raw = append(o.raw, b...)
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				var vals []string
				for _, a := range s.Attributes {
					vals = append(vals, a.Key+"="+a.Value.String())
				}
				vals = append(vals, "status="+s.Status.GetCode().String())
				o.spans[s.Name] = vals
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// TestBatchSpansOverOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set, every batch
// a stage handles becomes a span at the collector, failed ones marked as
// errors, and never carrying a record's content; the batch duration is on
// /metrics either way.
func TestBatchSpansOverOTLP(t *testing.T) {
	// Not parallel: it sets environment variables.
	rcv := &otlpReceiver{spans: map[string][]string{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	if !TracingConfigured(func(k string) string { return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL}[k] }) || TracingConfigured(func(string) string { return "" }) {
		t.Fatal("TracingConfigured does not follow OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stop, err := m.StartTracing(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	out := kafkax.NewOutput(func(*kgo.Record, func(*kgo.Record, error)) {})
	recs := []*kgo.Record{{Topic: "events.web", Partition: 2, Offset: 40, Value: []byte(`{"email":"jane@example.com"}`)}}
	ok := m.Wrap("ingest", func(context.Context, []*kgo.Record, *kafkax.Output) error { return nil })
	bad := m.Wrap("deliver-meta", func(context.Context, []*kgo.Record, *kafkax.Output) error { return errors.New("platform down") })
	if err := ok(ctx, recs, out); err != nil {
		t.Fatal(err)
	}
	if err := bad(ctx, recs, out); err == nil {
		t.Fatal("the wrapper swallowed the handler's error")
	}
	if err := stop(ctx); err != nil { // flushes
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	tests := []struct{ span, want string }{
		{"signalpipe.ingest.batch", "signalpipe.records=int_value:1"},
		{"signalpipe.ingest.batch", "messaging.kafka.message.offset=int_value:40"},
		{"signalpipe.ingest.batch", "status=STATUS_CODE_UNSET"},
		{"signalpipe.deliver-meta.batch", "status=STATUS_CODE_ERROR"},
	}
	for _, tt := range tests {
		if !strings.Contains(strings.Join(rcv.spans[tt.span], " "), tt.want) {
			t.Errorf("span %s: %q lacks %s", tt.span, rcv.spans[tt.span], tt.want)
		}
	}
	if strings.Contains(string(rcv.raw), "jane@example.com") {
		t.Error("a record's content reached a span")
	}
	if body := scrape(t, m.Handler()); !strings.Contains(body, `signalpipe_stage_batch_duration_seconds_count{stage="ingest"} 1`) {
		t.Error("/metrics lacks the ingest batch duration")
	}
}
