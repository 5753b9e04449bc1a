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
	if c.Destinations.Meta == nil || c.Destinations.Meta.PixelID == "" {
		t.Fatal("example config has no meta pixel")
	}
	if got := c.SourceOf("events.crm"); got != "crm" {
		t.Errorf("SourceOf(events.crm) = %q, want crm", got)
	}
}

const minimal = `
kafka: {brokers: ["localhost:9092"]}
inputs: [{topic: events.web, source: web}]
destinations: {meta: {pixel_id: "1", access_token_env: META_TOKEN}}
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
		{"missing pixel", strings.Replace(minimal, `pixel_id: "1", `, "", 1), []string{"destinations.meta.pixel_id"}},
		{"token in file", strings.Replace(minimal, "META_TOKEN", "EAAB-not-a-name!", 1), []string{"destinations.meta.access_token_env"}},
		{"no brokers", strings.Replace(minimal, `["localhost:9092"]`, "[]", 1), []string{"kafka.brokers"}},
		{"bad broker", strings.Replace(minimal, `localhost:9092`, "localhost", 1), []string{"kafka.brokers[0]"}},
		{"bad source", strings.Replace(minimal, "source: web", "source: tv", 1), []string{"inputs[0].source"}},
		{"no inputs", strings.Replace(minimal, "inputs: [{topic: events.web, source: web}]", "", 1), []string{"inputs"}},
		{"bad duration", minimal + "deliver: {max_backoff: soon}\n", []string{"max_backoff"}},
		{"retry past txn timeout", minimal + "deliver: {max_retry_elapsed: 90s}\n", []string{"deliver.max_retry_elapsed"}},
		{"batch too big", strings.Replace(minimal, "access_token_env: META_TOKEN", "access_token_env: META_TOKEN, batch_size: 5000", 1), []string{"destinations.meta.batch_size"}},
		{"sasl without password env", minimal + "", nil},
		{"sasl incomplete", strings.Replace(minimal, `brokers: ["localhost:9092"]`, `brokers: ["localhost:9092"], sasl: {mechanism: PLAIN}`, 1), []string{"kafka.sasl.username", "kafka.sasl.password_env"}},
		{"two problems at once", strings.Replace(strings.Replace(minimal, "source: web", "source: tv", 1), `pixel_id: "1", `, "", 1), []string{"inputs[0].source", "destinations.meta.pixel_id"}},
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
	m := c.Destinations.Meta
	if m.BatchSize != 1000 || m.APIVersion == "" || m.Endpoint != "https://graph.facebook.com" {
		t.Errorf("meta defaults not applied: %+v", m)
	}
	if c.Kafka.TopicPrefix != "sp." || c.Kafka.Topics().Out("meta") != "sp.out.meta" {
		t.Errorf("topic names: prefix %q", c.Kafka.TopicPrefix)
	}
}
