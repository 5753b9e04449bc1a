package quality

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Elector makes one quality replica the leader: the one that posts alert
// webhooks and writes snapshots. Every replica joins one consumer group
// (<group_prefix>-quality-leader) on a one-partition topic
// (sp.quality.leader, which holds no records); Kafka's group protocol gives
// partition 0 to exactly one live member, and that member is the leader
// until the partition is revoked or lost. Every other replica still reads
// all of sp.outcomes and evaluates the rules, for its own pages.
//
// Leadership is judged from the group's callbacks, so a leader cut off from
// Kafka stops leading when its session is lost; until then (at most the
// session timeout) an old and a new leader can overlap. The snapshot
// protocol tolerates that (a broken newest snapshot is refused, never
// half-read), and the alert record makes the overlap cost at most one
// repeated message.
type Elector struct {
	cl    *kgo.Client
	topic string
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{}

	mu     sync.Mutex
	leader bool
	term   uint64
}

// Elect joins group on topic with the connection options opts and returns
// at once; Leader tells when this replica has been elected.
func Elect(opts []kgo.Opt, group, topic string, log *slog.Logger) (*Elector, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Elector{topic: topic, log: log, done: make(chan struct{})}
	cl, err := kgo.NewClient(append(slices.Clone(opts),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { e.set(ps, true) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { e.set(ps, false) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { e.set(ps, false) }),
	)...)
	if err != nil {
		return nil, fmt.Errorf("joining the quality leader group: %w", err)
	}
	e.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	// The topic holds no records; polling keeps the client's consumer
	// side going as the group protocol expects.
	go func() {
		defer close(e.done)
		for ctx.Err() == nil {
			if fs := cl.PollFetches(ctx); fs.IsClientClosed() {
				return
			}
		}
	}()
	return e, nil
}

// set applies an assignment (gained true) or a revocation.
func (e *Elector) set(ps map[string][]int32, gained bool) {
	if !slices.Contains(ps[e.topic], 0) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.leader == gained {
		return
	}
	e.leader = gained
	if gained {
		e.term++
		e.log.Info("this replica leads the quality stage: it posts alerts and writes snapshots", "term", e.term)
	} else {
		e.log.Info("this replica no longer leads the quality stage")
	}
}

// Leader reports whether this replica leads, and the term: it grows each
// time this replica is elected, so a caller can tell a new term from the
// one it prepared for.
func (e *Elector) Leader() (bool, uint64) {
	if e == nil {
		return false, 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader, e.term
}

// Close leaves the group, so another replica is elected at once.
func (e *Elector) Close() {
	e.mu.Lock()
	e.leader = false
	e.mu.Unlock()
	e.stop()
	e.cl.Close()
	<-e.done
}
