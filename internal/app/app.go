// Package app builds signalpipe's stages from config and runs them: topic
// checks, one transactional consumer group per stage (and per destination,
// so one platform's outage never slows another), restart with backoff when a
// session fails, and an ordered, bounded shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/deliver"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/process"
	"github.com/signalpipe/signalpipe/internal/schema"
)

// Stage names for --stages.
const (
	StageIngest  = "ingest"
	StageProcess = "process"
	StageDeliver = "deliver"
)

// AllStages lists the stages in pipeline order.
var AllStages = []string{StageIngest, StageProcess, StageDeliver}

// Options are the app's dependencies; zero values pick the real ones.
type Options struct {
	Logger     *slog.Logger
	Clock      func() time.Time
	HTTPClient *http.Client
	Getenv     func(string) string
	// Stages to run; empty runs all.
	Stages []string
	// OnCommit, if set, is told of every committed batch per stage.
	OnCommit func(stage string, consumed, produced int)
	// WrapHandler, if set, wraps each stage's handler (telemetry times
	// every batch and traces it).
	WrapHandler func(stage string, h kafkax.Handler) kafkax.Handler
}

// App is a configured pipeline.
type App struct {
	cfg    config.Config
	opts   Options
	log    *slog.Logger
	topics kafkax.Topics
	dests  []destination.Destination
	routes []process.Route
	dec    *ingest.Decoder
	// destCfg is the config entry of each of dests, by index.
	destCfg []config.Destination

	mu       sync.Mutex
	breakers map[string]*deliver.Breaker
	// withdrawals is the table deliver checks before sending (nil when this
	// replica delivers nothing).
	withdrawals *process.Withdrawals
	// extras are per-stage additions to the session and loop (the process
	// stage's state store hooks), by stage name.
	extras map[string]stageExtras
}

// stageExtras are what a stateful stage adds to its session and loop.
type stageExtras struct {
	opts       []kgo.Opt
	afterBatch func(committed bool)
	// sessionEnded runs on the stage's goroutine after a session closed.
	sessionEnded func()
}

// Withdrawn reports whether this replica's deliver stages already know
// that the person (identity key) withdrew consent at or after at: events of
// theirs queued before then are purged from here on.
func (a *App) Withdrawn(identity string, at time.Time) bool {
	a.mu.Lock()
	w := a.withdrawals
	a.mu.Unlock()
	return w != nil && w.Purged(identity, at)
}

// Breakers returns each running destination's breaker state.
func (a *App) Breakers() map[string]deliver.BreakerState {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]deliver.BreakerState, len(a.breakers))
	for name, b := range a.breakers {
		out[name] = b.State()
	}
	return out
}

// newDestination builds the destination a config entry describes; secrets
// come from the environment variables the entry names.
func newDestination(dc config.Destination, getenv func(string) string, hc *http.Client) (destination.Destination, error) {
	p := dc.Platform()
	if p == nil {
		return nil, fmt.Errorf("destination type %q has no %s block", dc.Type, dc.Type)
	}
	return p.Open(getenv, hc)
}

// New builds the pipeline: it reads secrets from the environment and
// compiles the schemas, but connects to nothing yet.
func New(cfg config.Config, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if len(o.Stages) == 0 {
		o.Stages = AllStages
	}
	for _, s := range o.Stages {
		if !slices.Contains(AllStages, s) {
			return nil, fmt.Errorf("unknown stage %q (stages: ingest, process, deliver)", s)
		}
	}
	a := &App{cfg: cfg, opts: o, log: o.Logger, topics: cfg.Kafka.Topics(), breakers: map[string]*deliver.Breaker{}, extras: map[string]stageExtras{}}
	for i, dc := range cfg.Destinations {
		dc := dc
		a.routes = append(a.routes, process.Route{Destination: dc.Name, Accepts: func(ev *event.Event) bool { return dc.Accepts(ev.EventName) }})
		if a.runs(StageDeliver) {
			d, err := newDestination(dc, o.Getenv, o.HTTPClient)
			if err != nil {
				return nil, fmt.Errorf("destinations[%d] (%s): %w", i, dc.Name, err)
			}
			a.dests = append(a.dests, d)
			a.destCfg = append(a.destCfg, dc)
		}
	}
	if a.runs(StageIngest) {
		v, err := schema.New()
		if err != nil {
			return nil, fmt.Errorf("compiling schemas: %w", err)
		}
		a.dec = ingest.NewDecoder(v, ingest.DecodeOptions{MaxRecordBytes: cfg.Ingest.MaxRecordBytes, MaxFutureSkew: cfg.Ingest.MaxFutureSkew})
	}
	return a, nil
}

// Validations counts the records ingest validated on the schema's fast path
// and in the library; zero when this replica does not ingest (or a is nil:
// the metrics may be read before the pipeline is built).
func (a *App) Validations() (fast, library uint64) {
	if a == nil || a.dec == nil {
		return 0, 0
	}
	return a.dec.Validations()
}

func (a *App) runs(stage string) bool { return slices.Contains(a.opts.Stages, stage) }

// Topics returns the topics this pipeline writes and reads, besides inputs.
func (a *App) Topics() []kafkax.TopicSpec {
	p := a.cfg.Kafka.Partitions
	specs := []kafkax.TopicSpec{
		{Name: a.topics.Events(), Partitions: p},
		{Name: a.topics.DLQ(), Partitions: p},
		{Name: a.topics.Outcomes(), Partitions: p},
	}
	// A retry record lives at most its tier's delay before it is consumed
	// (or requeued as a new record); a week more covers a long outage of the
	// pipeline itself.
	for _, r := range a.routes {
		specs = append(specs, kafkax.TopicSpec{Name: a.topics.Out(r.Destination), Partitions: p})
		for i, t := range deliver.RetryTopics(a.topics, r.Destination, a.cfg.Deliver.RetryTiers) {
			ms := strconv.FormatInt((a.cfg.Deliver.RetryTiers[i] + 7*24*time.Hour).Milliseconds(), 10)
			specs = append(specs, kafkax.TopicSpec{Name: t, Partitions: p, Configs: map[string]*string{"retention.ms": &ms}})
		}
	}
	// The process stage's changelog mirrors sp.events partition for
	// partition, so it has as many.
	compact := "compact"
	for _, st := range []string{process.StoreName, process.WithdrawalsStore} {
		specs = append(specs, kafkax.TopicSpec{Name: a.topics.State(st), Partitions: p, Configs: map[string]*string{kafkax.ConfigCleanupPolicy: &compact}})
	}
	// The quality stage's snapshots: one partition, so a manifest follows
	// its chunks, and compacted, so the newest manifest and the chunks it
	// names are kept however long ago they were written. The compaction lag
	// keeps a chunk superseded by a newer snapshot readable for an hour, so
	// a replica reading the older manifest still finds all of it. The
	// leader topic elects one quality replica through its consumer group.
	lag := "3600000"
	specs = append(specs,
		kafkax.TopicSpec{Name: a.topics.QualitySnapshots(), Partitions: 1, Configs: map[string]*string{kafkax.ConfigCleanupPolicy: &compact, "min.compaction.lag.ms": &lag}},
		kafkax.TopicSpec{Name: a.topics.QualityLeader(), Partitions: 1})
	return specs
}

// Run runs the configured stages until ctx is cancelled, then lets the
// batches in hand finish (bounded by deliver.shutdown_timeout) and returns.
func (a *App) Run(ctx context.Context) error {
	base, err := a.cfg.Kafka.ClientOpts()
	if err != nil {
		return err
	}
	base = append(base, kgo.WithLogger(kafkax.Logger(a.log)))
	if err := a.ensureTopics(ctx, base); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: nothing was consumed yet
		}
		return err
	}
	defer func() {
		for _, d := range a.dests {
			_ = d.Close()
		}
	}()
	var proc *process.Stage
	if a.runs(StageProcess) {
		// Built before any stage starts: it registers its session hooks.
		var release func()
		if proc, release, err = a.newProcess(base); err != nil {
			return err
		}
		defer release() // after wg.Wait below: the stage has stopped
	}
	var wg sync.WaitGroup
	run := func(name, group string, topics []string, reset kgo.Offset, poll int, linger time.Duration, h kafkax.Handler, gate func() (bool, time.Duration)) {
		if a.opts.WrapHandler != nil {
			h = a.opts.WrapHandler(name, h)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.superviseStage(ctx, base, name, group, topics, reset, poll, linger, h, gate)
		}()
	}
	k := a.cfg.Kafka
	inputReset := kgo.NewOffset().AtStart()
	if k.StartFrom == "latest" {
		inputReset = kgo.NewOffset().AtEnd()
	}
	if a.runs(StageIngest) {
		st := ingest.NewStage(a.dec, a.topics, a.cfg.SourceOf, a.opts.Clock)
		run(StageIngest, k.GroupPrefix+"-ingest", a.cfg.InputTopics(), inputReset, a.cfg.Ingest.PollRecords, 0, st.Handle, nil)
	}
	if a.runs(StageProcess) {
		run(StageProcess, k.GroupPrefix+"-process", proc.Topics(), kgo.NewOffset().AtStart(), a.cfg.Ingest.PollRecords, 0, proc.Handle, nil)
	}
	withdrawals := a.followWithdrawals(ctx, base, &wg)
	for i, d := range a.dests {
		dc := a.destCfg[i]
		cfg := a.deliverConfig(dc)
		// A withdrawal purges queued events only where a denial matters:
		// a destination whose policy sends denied traffic as it is (consent
		// not required there) keeps them.
		if denied, _ := a.cfg.Process.Consent.For(dc.Name); denied != config.PolicySend {
			cfg.Purged = withdrawals
		}
		st := deliver.New(d, a.topics, cfg, a.opts.Clock, a.log)
		a.mu.Lock()
		a.breakers[d.Name()] = st.Breaker
		a.mu.Unlock()
		poll := d.Limits().MaxBatch * cfg.Concurrency
		run(StageDeliver+"-"+d.Name(), k.GroupPrefix+"-deliver-"+d.Name(), []string{a.topics.Out(d.Name())}, kgo.NewOffset().AtStart(), poll, dc.Linger(), st.Handle, st.Gate())
		// The retry tiers have a group of their own, so waiting retries
		// never hold up fresh traffic, and share the breaker.
		run(StageDeliver+"-"+d.Name()+"-retry", k.GroupPrefix+"-deliver-"+d.Name()+"-retry", st.RetryTopics(), kgo.NewOffset().AtStart(), poll, 0, st.Handle, st.Gate())
	}
	a.log.Info("pipeline running", "stages", a.opts.Stages, "inputs", a.cfg.InputTopics(), "brokers", k.Brokers)
	wg.Wait()
	return nil
}

func (a *App) deliverConfig(dc config.Destination) deliver.Config {
	return deliver.Config{
		InitialBackoff:  a.cfg.Deliver.InitialBackoff,
		MaxBackoff:      a.cfg.Deliver.MaxBackoff,
		MaxRetryElapsed: a.cfg.Deliver.MaxRetryElapsed,
		Concurrency:     dc.Concurrency(),
		Breaker: deliver.BreakerConfig{
			Failures: a.cfg.Deliver.Breaker.Failures, OpenFor: a.cfg.Deliver.Breaker.OpenFor, MaxOpenFor: a.cfg.Deliver.Breaker.MaxOpenFor,
		},
		Tiers:             a.cfg.Deliver.RetryTiers,
		RequestsPerMinute: dc.RequestsPerMinute(),
		Degraded: deliver.DegradedConfig{
			Dir: a.cfg.Deliver.Degraded.DegradedDir(), Margin: a.cfg.Deliver.Degraded.Margin, Every: a.cfg.Deliver.Degraded.Every,
		},
	}
}

func (a *App) ensureTopics(ctx context.Context, base []kgo.Opt) error {
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return fmt.Errorf("connecting to kafka: %w", err)
	}
	defer cl.Close()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafkax.EnsureTopics(tctx, cl, a.cfg.Kafka.ReplicationFactor, a.cfg.Kafka.CreateTopics, a.Topics()...); err != nil {
		return fmt.Errorf("checking topics on %v: %w", a.cfg.Kafka.Brokers, err)
	}
	var inputs []kafkax.TopicSpec
	for _, t := range a.cfg.InputTopics() {
		inputs = append(inputs, kafkax.TopicSpec{Name: t, Partitions: a.cfg.Kafka.Partitions})
	}
	if a.runs(StageIngest) {
		if err := kafkax.EnsureTopics(tctx, cl, a.cfg.Kafka.ReplicationFactor, a.cfg.Kafka.CreateTopics, inputs...); err != nil {
			return fmt.Errorf("checking input topics: %w", err)
		}
	}
	return nil
}

// superviseStage runs one stage's transactional loop, and builds a new
// session after a failure, with backoff, until ctx ends.
func (a *App) superviseStage(ctx context.Context, base []kgo.Opt, name, group string, topics []string, reset kgo.Offset, poll int, linger time.Duration, h kafkax.Handler, gate func() (bool, time.Duration)) {
	k := a.cfg.Kafka
	backoff := time.Second
	for ctx.Err() == nil {
		opts := append(slices.Clone(base),
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topics...),
			kgo.ConsumeResetOffset(reset),
			kgo.TransactionalID(k.GroupPrefix+"-"+name+"-"+k.InstanceID),
			// Static membership: a restarted replica takes its own place in
			// the group at once, instead of waiting for its dead
			// predecessor's session to time out (and rebalancing twice).
			kgo.InstanceID(k.GroupPrefix+"-"+name+"-"+k.InstanceID),
			kgo.TransactionTimeout(k.TransactionTimeout),
			kgo.SessionTimeout(k.SessionTimeout),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.FetchMaxWait(250*time.Millisecond),
			kgo.MaxBufferedRecords(max(poll*4, 10000)),
		)
		ex := a.extras[name]
		opts = append(opts, ex.opts...)
		sess, err := kgo.NewGroupTransactSession(opts...)
		if err == nil {
			loop := &kafkax.TransactLoop{
				Name: name, Session: sess, PollRecords: poll, Linger: linger, Handle: h,
				ShutdownTimeout: a.cfg.Deliver.ShutdownTimeout, EndTimeout: k.TransactionTimeout,
				AbortBackoff: a.cfg.Deliver.InitialBackoff, Logger: a.log, Gate: gate, Topics: topics,
			}
			if a.opts.OnCommit != nil {
				loop.OnCommit = func(c, p int) { a.opts.OnCommit(name, c, p) }
			}
			loop.AfterBatch = ex.afterBatch
			err = loop.Run(ctx)
			sess.Close()
			if ex.sessionEnded != nil {
				ex.sessionEnded()
			}
			if err == nil {
				return
			}
		}
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return
		}
		a.log.Error("stage failed; starting a new session", "stage", name, "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
