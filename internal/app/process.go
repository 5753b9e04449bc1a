package app

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/process"
	"github.com/signalpipe/signalpipe/internal/store"
)

// processRoutes are the process stage's routing rules: process.routes when
// configured, else each destination's own event list.
func processRoutes(cfg config.Config, byDest []process.Route) []process.Route {
	if len(cfg.Process.Routes) == 0 {
		return byDest
	}
	out := make([]process.Route, 0, len(cfg.Process.Routes))
	for _, r := range cfg.Process.Routes {
		out = append(out, process.Route{Destination: r.Destination, As: r.As, Accepts: func(ev *event.Event) bool { return r.Matches(ev) }})
	}
	return out
}

// newProcess builds the process stage and its state store, and registers
// the session options and hooks the store needs: changelog records go to
// the partition they name, revoked or lost partitions are closed (and
// caught up from the changelog when they come back), each batch's writes
// are applied or dropped by its transaction's fate, and a failed session
// closes every partition. The returned func frees the store once the stage
// has stopped.
func (a *App) newProcess(base []kgo.Opt) (*process.Stage, func(), error) {
	k := a.cfg.Kafka
	pc := a.cfg.Process
	st, err := store.Open(store.Config{
		Name:          process.StoreName,
		Topic:         a.topics.State(process.StoreName),
		Dir:           filepath.Join(pc.StateDir, k.GroupPrefix+"-process-"+k.InstanceID),
		ClientOpts:    base,
		MaxLocalAge:   pc.MaxLocalStateAge,
		CacheBytes:    pc.StateCacheBytes,
		MemTableBytes: uint64(pc.StateMemTableBytes),
		Clock:         a.opts.Clock,
		Logger:        a.log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the process stage's state: %w", err)
	}
	stage := process.New(process.Config{
		StateWait:      stateWait(pc),
		Logger:         a.log,
		Routes:         processRoutes(a.cfg, a.routes),
		Topics:         a.topics,
		Store:          st,
		DedupeWindow:   pc.DedupeWindow,
		PersonTTL:      pc.PersonTTL,
		ClickIDWindows: pc.ClickIDWindows,
		ConsentPolicy:  pc.Consent.For,
		Clock:          a.opts.Clock,
	})
	events := a.topics.Events()
	revoke := func(_ context.Context, _ *kgo.Client, parts map[string][]int32) { st.Revoke(parts[events]...) }
	a.extras[StageProcess] = stageExtras{
		opts: []kgo.Opt{
			kgo.RecordPartitioner(store.Partitioner(a.topics.State(""), kgo.StickyKeyPartitioner(nil))),
			kgo.OnPartitionsRevoked(revoke),
			kgo.OnPartitionsLost(revoke),
		},
		afterBatch:   stage.AfterBatch,
		sessionEnded: st.Close,
	}
	return stage, st.Release, nil
}

// stateWait turns process.state_wait into the stage's StateWait: off waits
// without bound, 0s never waits for a restore.
func stateWait(pc config.Process) time.Duration {
	w, bounded, err := pc.StateWaitBound()
	switch {
	case err != nil || !bounded:
		return 0
	case w == 0:
		return process.NoStateWait
	}
	return w
}

// followWithdrawals starts, when this replica delivers, the table of
// consent withdrawals the deliver stages check before sending; it returns
// the check (nil when nothing is delivered here).
func (a *App) followWithdrawals(ctx context.Context, base []kgo.Opt, wg *sync.WaitGroup) func(string, time.Time) bool {
	if len(a.dests) == 0 {
		return nil
	}
	w := process.NewWithdrawals()
	a.mu.Lock()
	a.withdrawals = w
	a.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := w.Follow(ctx, base, a.topics.State(process.WithdrawalsStore), a.log); err != nil {
			a.log.Error("withdrawals table stopped; queued events of people who withdraw consent are no longer purged", "err", err)
		}
	}()
	// Deliver starts once the table holds every earlier withdrawal, so a
	// replica that just started does not send what a withdrawal purged.
	select {
	case <-w.Ready():
	case <-ctx.Done():
	case <-time.After(withdrawalsLoadTimeout):
		a.log.Warn("withdrawals not loaded in time; delivering meanwhile", "timeout", withdrawalsLoadTimeout)
	}
	return w.Purged
}

// withdrawalsLoadTimeout bounds how long deliver waits for the withdrawals
// table at start.
const withdrawalsLoadTimeout = 30 * time.Second
