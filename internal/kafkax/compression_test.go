package kafkax

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestCompressionReachesTheBroker: kafka.compression decides the codec of
// the batches the broker stores, and several clients built from one
// ClientOpts start concurrently without a race.
func TestCompressionReachesTheBroker(t *testing.T) {
	t.Parallel()
	b, err := StartEmbedded("127.0.0.1:0", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tests := []struct {
		codec string
		want  uint8 // Kafka's attribute codes: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
	}{{"none", 0}, {"gzip", 1}, {"snappy", 2}, {"lz4", 3}, {"zstd", 4}}
	for _, tt := range tests {
		t.Run(tt.codec, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := Config{Brokers: []string{b.Addr}, Compression: tt.codec}
			c.ApplyDefaults()
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			opts, err := c.ClientOpts()
			if err != nil {
				t.Fatal(err)
			}
			topic := "compressed-" + tt.codec
			opts = append(opts, kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
			errs := make(chan error, 3)
			for i := 0; i < 3; i++ { // one options slice, clients started at once
				go func() {
					cl, err := kgo.NewClient(opts...)
					if err != nil {
						errs <- err
						return
					}
					defer cl.Close()
					v := bytes.Repeat([]byte(fmt.Sprintf("value %d ", i)), 200)
					errs <- cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr()
				}()
			}
			for i := 0; i < 3; i++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			rd, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			for n := 0; n < 3; {
				fs := rd.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("read %d of 3 records", n)
				}
				fs.EachRecord(func(r *kgo.Record) {
					n++
					if got := r.Attrs.CompressionType(); got != tt.want {
						t.Errorf("record compressed with codec %d, want %d", got, tt.want)
					}
				})
			}
		})
	}
}
