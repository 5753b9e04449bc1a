package quality

import (
	"context"
	"log/slog"
	"time"

	json "github.com/goccy/go-json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
)

// FollowOpts are the consumer options for reading all of sp.outcomes from
// the start, committed records only. No consumer group: every replica reads
// every partition, so each one's report is whole.
func FollowOpts(topic string) []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	}
}

// Follow feeds every outcome read by cl into l (a Ledger or a Monitor)
// until ctx ends. cl must have been built with FollowOpts.
func Follow(ctx context.Context, cl *kgo.Client, l Sink, log *slog.Logger) {
	for ctx.Err() == nil {
		fs := cl.PollRecords(ctx, 10000)
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil && log != nil {
				log.Warn("reading outcomes", "topic", t, "partition", p, "err", err)
			}
		})
		cu, _ := l.(interface{ see(int32, int64, time.Time) })
		fs.EachRecord(func(r *kgo.Record) {
			if cu != nil {
				defer cu.see(r.Partition, r.Offset, r.Timestamp)
			}
			var o event.Outcome
			if err := json.Unmarshal(r.Value, &o); err != nil {
				if log != nil {
					log.Warn("undecodable outcome record", "partition", r.Partition, "offset", r.Offset)
				}
				return
			}
			l.Add(o)
		})
	}
}
