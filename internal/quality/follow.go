package quality

import (
	"context"
	"log/slog"

	json "github.com/goccy/go-json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
)

// FollowOpts are the consumer options for reading all of sp.outcomes,
// committed records only. No consumer group: every replica reads every
// partition, so each one's report is whole. Without from, it reads from the
// start and takes in partitions added later; with from (ResumeOffsets, after
// a snapshot was restored) it reads those partitions from those offsets, or
// from the start where an offset is no longer there. A partition added to
// sp.outcomes later is then read from the next start of the replica.
func FollowOpts(topic string, from map[int32]int64) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// The follower reads the whole topic at start, and a backlog's
		// worth of outcomes behind a burst: franz-go's default 50 MiB per
		// fetch kept tens of MiB of decompressed batches waiting to be
		// folded. 8 MiB still fills a poll of 10,000 outcomes many times.
		kgo.FetchMaxBytes(8 << 20),
	}
	if len(from) == 0 {
		return append(opts, kgo.ConsumeTopics(topic))
	}
	ps := make(map[int32]kgo.Offset, len(from))
	for p, o := range from {
		ps[p] = kgo.NewOffset().At(o)
	}
	return append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: ps}))
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
