package demo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/quality"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// StackOptions configure the embedded environment.
type StackOptions struct {
	// Broker is the embedded broker's address ("127.0.0.1:0" picks a port).
	Broker string
	// ExternalBroker, when set, is the address of a broker running
	// elsewhere (another process); no embedded broker is started.
	ExternalBroker string
	DataDir        string
	Logger         *slog.Logger
	// Clock is the pipeline's and the sandbox's clock; nil is time.Now.
	Clock func() time.Time
	// TrackRecords makes the ledger remember every record, for Check.
	TrackRecords bool
	// Tune may adjust the pipeline config before it starts.
	Tune func(*config.Config)
	// SandboxMaxRecorded bounds the events the sandbox keeps (see
	// sandbox.Options.MaxRecorded); benchmarks set -1 to measure the
	// pipeline's memory, not the sandbox's recording.
	SandboxMaxRecorded int
	// OnCommit and OnOutcome, if set, see every committed batch and every
	// outcome (the demo's metrics).
	OnCommit  func(stage string, consumed, produced int)
	OnOutcome func(event.Outcome)
	// WrapHandler wraps each stage's handler (the demo's batch timings).
	WrapHandler func(stage string, h kafkax.Handler) kafkax.Handler
	// Stages the in-process pipeline runs; empty runs all. A benchmark
	// runs the others in another process to measure one stage's memory.
	Stages []string
}

// Stack is the embedded default running in-process: a Kafka-compatible
// broker, the platform sandboxes on loopback, the pipeline and a ledger fed
// from sp.outcomes. The demo, the integration tests and the benchmarks all
// run on it.
type Stack struct {
	Broker     *kafkax.Embedded
	Sandbox    *sandbox.Server
	SandboxURL string
	Config     config.Config
	Ledger     *quality.Ledger
	// Quality is the quality stage fed from sp.outcomes (its Ledger is
	// Ledger): the report's aggregates, the trace index and the alerts.
	Quality  *quality.Monitor
	Producer *kgo.Client
	// App is the running pipeline (for its breakers' states).
	App *app.App

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pipeErr chan error
	closers []func()
	appOpts app.Options
}

// Start starts the stack; Close stops it.
func Start(ctx context.Context, o StackOptions) (_ *Stack, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Broker == "" {
		o.Broker = "127.0.0.1:0"
	}
	s := &Stack{pipeErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	brokerAddr := o.ExternalBroker
	if brokerAddr == "" {
		if s.Broker, err = kafkax.StartEmbedded(o.Broker, o.DataDir, 6, TopicWeb, TopicApp, TopicCRM); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, s.Broker.Close)
		brokerAddr = s.Broker.Addr
	}

	s.Sandbox = sandbox.New(sandbox.Options{MetaTokens: map[string]string{pixelID: demoToken}, WebhookSecret: webhookSecret, Clock: o.Clock, MaxRecorded: o.SandboxMaxRecorded})
	url, stop, err := s.Sandbox.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, stop)
	s.SandboxURL = url

	s.Config = Config(brokerAddr, s.SandboxURL)
	// Offline-upload files of the degraded path go next to the broker's
	// data, or to a folder of this run's own.
	exports := o.DataDir
	if exports == "" {
		if exports, err = os.MkdirTemp("", "signalpipe-demo-"); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { _ = os.RemoveAll(exports) })
	}
	s.Config.Deliver.Degraded.Dir = filepath.Join(exports, "exports")
	// The process stage's local state belongs with the broker's data: kept
	// beside a persistent broker, else a fresh directory per stack (stacks
	// may run side by side in one process, and a local copy from another
	// broker's run would only be thrown away).
	if o.DataDir != "" {
		s.Config.Process.StateDir = filepath.Join(o.DataDir, "state")
	} else {
		dir, derr := os.MkdirTemp("", "signalpipe-state-")
		if derr != nil {
			return nil, derr
		}
		s.closers = append(s.closers, func() { _ = os.RemoveAll(dir) })
		s.Config.Process.StateDir = dir
	}
	if o.Tune != nil {
		o.Tune(&s.Config)
		s.Config.ApplyDefaults() // for anything Tune added
		if err := s.Config.Validate(); err != nil {
			return nil, err
		}
	}
	s.appOpts = app.Options{Logger: o.Logger, Clock: o.Clock, OnCommit: o.OnCommit, WrapHandler: o.WrapHandler, Stages: o.Stages, Getenv: func(k string) string {
		switch k {
		case tokenEnv:
			return demoToken
		case WebhookSecretEnv:
			return webhookSecret
		}
		if strings.HasPrefix(k, demoEnvPrefix) {
			return demoToken // every sandbox accepts it
		}
		return os.Getenv(k)
	}}
	pipe, err := app.New(s.Config, s.appOpts)
	if err != nil {
		return nil, err
	}
	s.App = pipe
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.pipeErr <- pipe.Run(pctx)
	}()

	base, err := s.Config.Kafka.ClientOpts()
	if err != nil {
		return nil, err
	}
	s.Quality = quality.NewMonitor(s.Config.Quality, quality.MonitorOptions{Clock: o.Clock, TrackRecords: o.TrackRecords})
	s.Quality.Breakers = func() map[string]string {
		out := map[string]string{}
		for d, st := range pipe.Breakers() {
			out[d] = string(st)
		}
		return out
	}
	s.Quality.Observe = o.OnOutcome
	s.Ledger = s.Quality.Ledger
	follower, err := kgo.NewClient(append(base, quality.FollowOpts(s.Config.Kafka.Topics().Outcomes(), nil)...)...)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, follower.Close)
	s.Quality.CatchUp = quality.NewCatchUp(time.Now())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.Quality.CatchUp.Listen(pctx, kadm.NewClient(follower), s.Config.Kafka.Topics().Outcomes(), time.Minute, o.Logger)
	}()
	go func() {
		defer s.wg.Done()
		quality.Follow(pctx, follower, s.Quality, o.Logger)
	}()
	s.Producer, err = kgo.NewClient(append(base, kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(20000), kgo.ProducerBatchMaxBytes(1<<20))...)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Producer.Close)
	return s, nil
}

// AddInstance starts another replica of the pipeline, as a second pod
// would run: the same config with its own instance id, so it joins the same
// consumer groups. stop shuts it down (letting its batches finish) and
// returns what its Run returned.
func (s *Stack) AddInstance(ctx context.Context, id string) (stop func() error, err error) {
	cfg := s.Config
	cfg.Kafka.InstanceID = id
	pipe, err := app.New(cfg, s.appOpts)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- pipe.Run(pctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	s.closers = append(s.closers, func() { _ = stop() })
	return stop, nil
}

// Err delivers the pipeline's error if it stops by itself.
func (s *Stack) Err() <-chan error { return s.pipeErr }

// Produce sends records to the input topics and returns their coordinates
// (topic/partition/offset), the names the ledger knows them by.
func (s *Stack) Produce(ctx context.Context, recs []Record) ([]string, error) {
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
	}
	if err := s.Producer.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		return nil, fmt.Errorf("producing: %w", err)
	}
	out := make([]string, len(krs))
	for i, r := range krs {
		out[i] = event.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}.String()
	}
	return out, nil
}

// WaitBalanced polls the ledger until every input has its outcomes, or ctx
// ends; it returns the last check either way.
func (s *Stack) WaitBalanced(ctx context.Context, inputs []string) (quality.Balance, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	// Check walks every input record, so it runs only once the ledger counts
	// as many complete records as there are inputs (or every 5 s, to keep
	// the figures for an error current): checking on every quiet tick cost
	// an eighth of the CPU of a 50,000-record benchmark.
	var b quality.Balance
	lastCheck := time.Time{}
	for {
		if s.Ledger.Snapshot().Complete >= int64(len(inputs)) || time.Since(lastCheck) > 5*time.Second {
			b = s.Ledger.Check(inputs)
			lastCheck = time.Now()
			if b.Balanced {
				return b, nil
			}
		}
		select {
		case <-ctx.Done():
			b = s.Ledger.Check(inputs)
			return b, fmt.Errorf("waiting for outcomes: %w (%d of %d records incomplete, %d duplicate outcomes)", ctx.Err(), len(b.Incomplete), b.Inputs, b.Duplicates)
		case err := <-s.pipeErr:
			return b, fmt.Errorf("pipeline stopped: %v", err)
		case <-t.C:
		}
	}
}

// Close stops the pipeline (letting in-flight batches finish) and the rest.
func (s *Stack) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}
