package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/quality"
	"github.com/signalpipe/signalpipe/internal/telemetry"
)

// qualityDeps are what the quality stage reads from the rest of run.
type qualityDeps struct {
	pipe    *app.App
	metrics *telemetry.Metrics
	log     *slog.Logger
	// lag is pointed at the lag poller once it exists.
	lag *func() map[string]int64
}

// breakerStates reads the pipeline's breakers as strings (nil before it
// exists).
func breakerStates(pipe *app.App) map[string]string {
	if pipe == nil {
		return nil
	}
	out := map[string]string{}
	for d, s := range pipe.Breakers() {
		out[d] = string(s)
	}
	return out
}

// consumerGroups lists the pipeline's consumer groups, for lag.
func consumerGroups(cfg config.Config) []string {
	p := cfg.Kafka.GroupPrefix
	gs := []string{p + "-ingest", p + "-process"}
	for _, d := range cfg.Destinations {
		gs = append(gs, p+"-deliver-"+d.Name)
	}
	return gs
}

// serveQuality runs the quality stage: it follows all of sp.outcomes into
// a Monitor, polls consumer lag, evaluates the alert rules, and serves the
// status and report pages, their APIs, /metrics and the health checks.
func serveQuality(ctx context.Context, cfg config.Config, token string, d qualityDeps) (func(), error) {
	base, err := cfg.Kafka.ClientOpts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return nil, fmt.Errorf("connecting to kafka: %w", err)
	}
	mon := quality.NewMonitor(cfg.Quality, quality.MonitorOptions{})
	mon.Breakers = func() map[string]string { return breakerStates(d.pipe) }
	mon.Observe = d.metrics.Outcome
	if env := cfg.Quality.Alerts.WebhookURLEnv; env != "" {
		if mon.Alerter.WebhookURL = os.Getenv(env); mon.Alerter.WebhookURL == "" {
			cl.Close()
			return nil, fmt.Errorf("quality.alerts.webhook_url_env: environment variable %s is empty", env)
		}
	}
	mon.Alerter.Client = &http.Client{Timeout: cfg.Quality.Alerts.Timeout}
	mon.Alerter.Logger = d.log
	// One replica leads: it posts the alerts and writes the snapshots.
	topics := cfg.Kafka.Topics()
	el, err := quality.Elect(base, cfg.Kafka.GroupPrefix+"-quality-leader", topics.QualityLeader(), d.log)
	if err != nil {
		cl.Close()
		return nil, err
	}
	snap, err := quality.NewSnapshotter(mon, quality.SnapshotterOptions{Opts: base, Topic: topics.QualitySnapshots(), Outcomes: topics.Outcomes(), Leader: el.Leader, Log: d.log})
	if err != nil {
		el.Close()
		cl.Close()
		return nil, err
	}
	mon.Alerter.Leader, mon.Alerter.Persist = snap.Leading, snap.PersistAlerts
	fctx, cancel := context.WithCancel(ctx)
	mon.CatchUp = quality.NewCatchUp(time.Now())
	go mon.CatchUp.Listen(fctx, kadm.NewClient(cl), topics.Outcomes(), 5*time.Minute, d.log)
	// The snapshot is restored before Follow counts anything (the
	// topics may only now be being created by the pipeline), and written
	// only once restored, so a replica never overwrites history it did
	// not load.
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		if _, err := quality.LoadSnapshot(fctx, base, topics.QualitySnapshots(), topics.Outcomes(), mon, d.log); err != nil {
			return
		}
		from := mon.ResumeOffsets()
		mon.CatchUp.Resumed(from)
		follower, err := kgo.NewClient(append(slices.Clone(base), quality.FollowOpts(topics.Outcomes(), from)...)...)
		if err != nil {
			d.log.Error("connecting to kafka to follow sp.outcomes", "err", err)
			return
		}
		defer follower.Close()
		go snap.Run(fctx, cfg.Quality.SnapshotEvery)
		quality.Follow(fctx, follower, mon, d.log)
	}()
	go mon.Alerter.Run(fctx, cfg.Quality.Alerts.EvaluateEvery)
	lag := &telemetry.LagPoller{Admin: kadm.NewClient(cl), Groups: consumerGroups(cfg), Interval: 15 * time.Second, Logger: d.log}
	go lag.Run(fctx)
	*d.lag = lag.Lag
	started := time.Now()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		cancel()
		<-followed
		el.Close()
		snap.Close()
		cl.Close()
		return nil, fmt.Errorf("server.listen: %w", err)
	}
	srv := &http.Server{
		Handler: (&quality.Server{
			Token: token, Monitor: mon, Metrics: d.metrics.Handler(),
			Status: func() quality.Status {
				return quality.Status{Now: time.Now(), Started: started, Ledger: mon.Ledger.Snapshot(),
					Extra: map[string]any{"breakers": breakerStates(d.pipe), "caught_up": mon.CatchUp.Done(), "quality_leader": snap.Leading()}}
			},
			Ready:        func() error { return brokerReady(ctx, cl) },
			Destinations: func() map[string]string { return breakerStates(d.pipe) },
		}).Handler(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		_ = srv.Close()
		cancel()
		<-followed
		el.Close()
		snap.Close()
		cl.Close()
		_ = d.metrics.Shutdown(context.Background())
	}, nil
}

// brokerReady pings the brokers: the pipeline is not ready while Kafka is
// unreachable.
func brokerReady(ctx context.Context, cl *kgo.Client) error {
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		return fmt.Errorf("kafka unreachable: %w", err)
	}
	return nil
}
