package quality

import (
	"context"
	"encoding/json"
	"log/slog"

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
// until ctx ends. cl must have been built with FollowOpts. A Monitor gets
// each poll's records under its fold lock, with their offsets: that is what
// lets a snapshot name exactly the outcomes it holds, and a Monitor restored
// from one skip (but for the trace index) the records it already counted.
func Follow(ctx context.Context, cl *kgo.Client, l Sink, log *slog.Logger) {
	m, _ := l.(*Monitor)
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
		if m != nil {
			m.fold.Lock()
		}
		fs.EachRecord(func(r *kgo.Record) {
			if m != nil {
				defer m.see(r.Partition, r.Offset, r.Timestamp)
			}
			var o event.Outcome
			if err := json.Unmarshal(r.Value, &o); err != nil {
				if log != nil {
					log.Warn("undecodable outcome record", "partition", r.Partition, "offset", r.Offset)
				}
				if m != nil {
					m.skip(r.Partition, r.Offset)
				}
				return
			}
			if m != nil {
				m.addAt(r.Partition, r.Offset, o)
				return
			}
			l.Add(o)
		})
		if m != nil {
			m.fold.Unlock()
		}
	}
}
