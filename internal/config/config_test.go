package config

import (
	"strings"
	"testing"
)

func TestExampleConfigLoads(t *testing.T) {
	t.Parallel()
	c, err := Load("../../config/example.yaml")
	if err != nil {
		t.Fatalf("config/example.yaml does not load: %v", err)
	}
	if len(c.Destinations) == 0 || c.Destinations[0].Meta == nil || c.Destinations[0].Meta.PixelID == "" {
		t.Fatal("example config has no meta pixel")
	}
	if got := c.SourceOf("events.crm"); got != "crm" {
		t.Errorf("SourceOf(events.crm) = %q, want crm", got)
	}
}

const minimal = `
kafka: {brokers: ["localhost:9092"]}
inputs: [{topic: events.web, source: web}]
destinations: [{type: meta, meta: {pixel_id: "1", access_token_env: META_TOKEN}}]
`

func TestDecodeErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string // substrings the error must contain
	}{
		{"unknown top-level key", minimal + "bogus: 1\n", []string{"bogus"}},
		{"unknown nested key", strings.Replace(minimal, "pixel_id", "pixelid", 1), []string{"pixelid"}},
		{"missing pixel", strings.Replace(minimal, `pixel_id: "1", `, "", 1), []string{"destinations[0].meta.pixel_id"}},
		{"token in file", strings.Replace(minimal, "META_TOKEN", "EAAB-not-a-name!", 1), []string{"destinations[0].meta.access_token_env"}},
		{"no brokers", strings.Replace(minimal, `["localhost:9092"]`, "[]", 1), []string{"kafka.brokers"}},
		{"bad broker", strings.Replace(minimal, `localhost:9092`, "localhost", 1), []string{"kafka.brokers[0]"}},
		{"bad source", strings.Replace(minimal, "source: web", "source: tv", 1), []string{"inputs[0].source"}},
		{"no inputs", strings.Replace(minimal, "inputs: [{topic: events.web, source: web}]", "", 1), []string{"inputs"}},
		{"bad duration", minimal + "deliver: {max_backoff: soon}\n", []string{"max_backoff"}},
		{"retry past txn timeout", minimal + "deliver: {max_retry_elapsed: 90s}\n", []string{"deliver.max_retry_elapsed"}},
		{"batch too big", strings.Replace(minimal, "access_token_env: META_TOKEN", "access_token_env: META_TOKEN, batch_size: 5000", 1), []string{"destinations[0].meta.batch_size"}},
		{"sasl without password env", minimal + "", nil},
		{"unknown compression", strings.Replace(minimal, `brokers: ["localhost:9092"]`, `brokers: ["localhost:9092"], compression: brotli`, 1), []string{"kafka.compression", "brotli"}},
		{"no compression", strings.Replace(minimal, `brokers: ["localhost:9092"]`, `brokers: ["localhost:9092"], compression: none`, 1), nil},
		{"sasl incomplete", strings.Replace(minimal, `brokers: ["localhost:9092"]`, `brokers: ["localhost:9092"], sasl: {mechanism: PLAIN}`, 1), []string{"kafka.sasl.username", "kafka.sasl.password_env"}},
		{"two pixels need two names", strings.Replace(minimal, `[{type: meta, meta: {pixel_id: "1", access_token_env: META_TOKEN}}]`, `[{type: meta, meta: {pixel_id: "1", access_token_env: T}}, {type: meta, meta: {pixel_id: "2", access_token_env: T}}]`, 1), []string{"destinations[1].name", "used twice"}},
		{"two pixels with names", strings.Replace(minimal, `[{type: meta, meta: {pixel_id: "1", access_token_env: META_TOKEN}}]`, `[{name: meta-us, type: meta, meta: {pixel_id: "1", access_token_env: T}}, {name: meta-eu, type: meta, meta: {pixel_id: "2", access_token_env: T}}]`, 1), nil},
		{"unknown type", strings.Replace(minimal, `type: meta, meta:`, `type: myspace, meta:`, 1), []string{"destinations[0].type", "myspace"}},
		{"name unusable in a topic", strings.Replace(minimal, `{type: meta,`, `{name: "Meta Pixel!", type: meta,`, 1), []string{"destinations[0].name"}},
		{"type block missing", strings.Replace(minimal, `{type: meta, meta: {pixel_id: "1", access_token_env: META_TOKEN}}`, `{type: meta}`, 1), []string{"destinations[0].meta"}},
		{"two problems at once", strings.Replace(strings.Replace(minimal, "source: web", "source: tv", 1), `pixel_id: "1", `, "", 1), []string{"inputs[0].source", "destinations[0].meta.pixel_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(strings.NewReader(tt.in))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Decode(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Ingest.MaxRecordBytes != DefaultMaxRecordBytes {
		t.Errorf("max_record_bytes default = %d, want %d", c.Ingest.MaxRecordBytes, DefaultMaxRecordBytes)
	}
	if c.Destinations[0].Name != "meta" {
		t.Errorf("destination name default = %q, want its type", c.Destinations[0].Name)
	}
	m := c.Destinations[0].Meta
	if m.Name != "meta" || m.BatchSize != 1000 || m.APIVersion == "" || m.Endpoint != "https://graph.facebook.com" {
		t.Errorf("meta defaults not applied: %+v", m)
	}
	if c.Kafka.Compression != "snappy" {
		t.Errorf("kafka.compression default = %q, want snappy", c.Kafka.Compression)
	}
	if c.Kafka.TopicPrefix != "sp." || c.Kafka.Topics().Out("meta") != "sp.out.meta" {
		t.Errorf("topic names: prefix %q", c.Kafka.TopicPrefix)
	}
}
