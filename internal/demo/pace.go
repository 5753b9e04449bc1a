package demo

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Pace produces gen's records to cl at rate records per second (0: as fast
// as the client takes them), n of them (0: until ctx ends), then flushes.
// onProduce is called, from the client's promise goroutine, with each
// generated record and the produce result. It returns how many records it
// handed to the client.
func Pace(ctx context.Context, cl *kgo.Client, gen *Generator, rate, n int, onProduce func(Record, *kgo.Record, error)) int {
	var tick <-chan time.Time
	perTick := 1000 // unpaced: hand records over in chunks, checking ctx between them
	if rate > 0 {
		t := time.NewTicker(time.Second / 20)
		defer t.Stop()
		tick = t.C
		perTick = max(rate/20, 1)
	}
	sent := 0
	for n <= 0 || sent < n {
		if tick != nil {
			select {
			case <-ctx.Done():
				return sent
			case <-tick:
			}
		}
		for j := 0; j < perTick && (n <= 0 || sent < n); j++ {
			rec := gen.Next()
			cl.Produce(ctx, &kgo.Record{Topic: rec.Topic, Key: rec.Key, Value: rec.Value}, func(r *kgo.Record, err error) {
				if onProduce != nil {
					onProduce(rec, r, err)
				}
			})
			sent++
		}
		if ctx.Err() != nil {
			return sent
		}
	}
	_ = cl.Flush(ctx)
	return sent
}
