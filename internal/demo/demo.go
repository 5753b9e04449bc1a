// Package demo runs the whole job on the embedded default: an in-process
// Kafka-compatible broker, the platform sandboxes, a traffic generator, the
// pipeline and the status page — what `make run` starts.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/google"
	"github.com/signalpipe/signalpipe/internal/destination/meta"
	"github.com/signalpipe/signalpipe/internal/destination/tiktok"
	"github.com/signalpipe/signalpipe/internal/destination/webhook"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/quality"
	"github.com/signalpipe/signalpipe/internal/sandbox"
	"github.com/signalpipe/signalpipe/internal/telemetry"
)

// Options configure a demo run.
type Options struct {
	// Events to generate; 0 generates until stopped.
	Events int
	// Once waits for every event's outcome, prints the ledger and returns.
	Once bool
	// Rate is events per second when generating until stopped; 0 = as fast
	// as possible with Events set.
	Rate int
	// Broker is the embedded broker's address; Listen the status page's
	// ("" turns it off).
	Broker  string
	Listen  string
	DataDir string
	Seed    uint64
	// Timeout bounds a --once run.
	Timeout time.Duration
	// SandboxFaults are fault specs for the sandbox (meta:status=503,for=30s).
	SandboxFaults []string
	JSON          bool
	Out           io.Writer
	Progress      io.Writer
	Logger        *slog.Logger
}

// Demo topic names.
const (
	TopicWeb = "events.web"
	TopicApp = "events.app"
	TopicCRM = "events.crm"

	pixelID   = "1234567890"
	tokenEnv  = "SIGNALPIPE_DEMO_META_TOKEN"
	demoToken = "demo-sandbox-token"

	// WebhookSecretEnv names the demo webhook secret; the stack provides it
	// and the sandbox's receiver checks signatures with it.
	WebhookSecretEnv = "SIGNALPIPE_DEMO_WEBHOOK_SECRET"
	webhookSecret    = "demo-webhook-secret"
)

// Ledger is what a --once run prints.
type Ledger struct {
	Inputs        int                         `json:"inputs"`
	Outcomes      quality.Counts              `json:"outcomes"`
	BySource      map[string]quality.Counts   `json:"by_source"`
	ByDestination map[string]quality.Counts   `json:"by_destination"`
	Reasons       map[string]map[string]int64 `json:"reasons"`
	Generated     map[Kind]int                `json:"generated"`
	Sandbox       sandbox.MetaStats           `json:"sandbox"`
	Balanced      bool                        `json:"balanced"`
	Incomplete    int                         `json:"incomplete"`
	Duplicates    int64                       `json:"duplicate_outcomes"`
	Seconds       float64                     `json:"seconds"`
}

// demoEnvPrefix marks the environment variables the demo's extra
// destinations name; the stack answers them with the sandbox's token.
const demoEnvPrefix = "SIGNALPIPE_DEMO_"

// MoreDestinations adds what `signalpipe demo` shows beyond Meta: Google Ads
// through the Data Manager API, TikTok, and the CRM team's own webhook for
// the lead stages, all on the sandbox, so the report compares platforms and
// an outage of one (--sandbox-fault) leaves the others untouched.
func MoreDestinations(c *config.Config) {
	sb := c.Destinations[0].Meta.Endpoint
	g := google.Example()
	g.Endpoint, g.TokenURL = sb, sb+"/token"
	g.ClientIDEnv, g.ClientSecretEnv, g.RefreshTokenEnv = demoEnvPrefix+"GOOGLE_CLIENT_ID", demoEnvPrefix+"GOOGLE_CLIENT_SECRET", demoEnvPrefix+"GOOGLE_REFRESH_TOKEN"
	g.DefaultPhoneRegion = "US"
	tt := tiktok.Example()
	tt.Endpoint, tt.AccessTokenEnv, tt.TestEventCode = sb, demoEnvPrefix+"TIKTOK_TOKEN", "TEST4242"
	c.Destinations = append(c.Destinations,
		config.Destination{Name: "google", Type: config.TypeGoogle, Google: g},
		config.Destination{Name: "tiktok", Type: config.TypeTikTok, TikTok: tt},
		config.Destination{Name: "crm-hook", Type: config.TypeWebhook, Webhook: &webhook.Config{
			URL: sb + "/hooks/crm", SecretEnv: WebhookSecretEnv,
			Delivery: destination.Delivery{Events: []string{event.NameQualifiedLead, event.NameClosedDeal}},
		}},
	)
}

// Config returns the pipeline config the demo runs, pointing at the given
// broker and sandbox.
func Config(broker, sandboxURL string) config.Config {
	c := config.Config{
		Inputs: []config.Input{{Topic: TopicWeb, Source: event.SourceWeb}, {Topic: TopicApp, Source: event.SourceApp}, {Topic: TopicCRM, Source: event.SourceCRM}},
		Destinations: []config.Destination{{Type: config.TypeMeta, Meta: &meta.Config{
			PixelID: pixelID, AccessTokenEnv: tokenEnv, Endpoint: sandboxURL, DefaultPhoneRegion: "US", TestEventCode: "TEST4242",
		}}},
	}
	c.Kafka.Brokers = []string{broker}
	c.Kafka.CreateTopics = true
	c.Kafka.Partitions = 6
	c.Kafka.InstanceID = "demo"
	c.Kafka.TransactionTimeout = 20 * time.Second
	c.Kafka.SessionTimeout = 10 * time.Second
	c.Kafka.MetadataMaxAge = 10 * time.Second
	c.Ingest.MaxRecordBytes = 256 << 10
	c.Deliver.MaxRetryElapsed = 10 * time.Second
	c.Deliver.ShutdownTimeout = 5 * time.Second
	// Alert rules the report page lists; --sandbox-fault meta:status=503
	// makes the first two fire.
	c.Quality.Alerts.EvaluateEvery = 5 * time.Second
	c.Quality.Alerts.Rules = []quality.Rule{
		{Name: "platform down", Kind: quality.RuleBreakerOpen, For: 10 * time.Second},
		{Name: "meta errors", Kind: quality.RuleErrorRate, Destination: "meta", Threshold: 0.2, Window: 5 * time.Minute, For: 30 * time.Second, MinVolume: 20},
		{Name: "dead letters", Kind: quality.RuleDLQGrowth, Threshold: 5000, Window: 10 * time.Minute, For: time.Minute},
	}
	// The demo's traffic stands for a site without a consent banner: no
	// signal means send. Explicit denials are still dropped.
	c.Process.Consent.Unknown = config.PolicySend
	c.ApplyDefaults()
	return c
}

// Run runs the demo until ctx ends, or, with Once, until every generated
// record has its outcomes.
func Run(ctx context.Context, o Options) (*Ledger, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Once && o.Events <= 0 {
		return nil, errors.New("--once needs --events N")
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := time.Now()

	var st *Stack
	metrics, err := telemetry.New(telemetry.Options{
		Breakers: func() map[string]string { return st.Quality.Breakers() },
		Validations: func() (uint64, uint64) {
			if st == nil {
				return 0, 0
			}
			return st.App.Validations()
		},
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = metrics.Shutdown(context.Background()) }()
	st, err = Start(ctx, StackOptions{Broker: o.Broker, DataDir: o.DataDir, Logger: o.Logger, TrackRecords: o.Once, OnCommit: metrics.OnCommit, OnOutcome: metrics.Outcome, WrapHandler: metrics.Wrap,
		Tune: MoreDestinations})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, f := range o.SandboxFaults {
		platform, fault, err := sandbox.ParseFaultFlag(f)
		if err != nil {
			return nil, fmt.Errorf("--sandbox-fault: %w", err)
		}
		st.Sandbox.SetFault(platform, fault)
	}
	sb, ledger, producer, cfg := st.Sandbox, st.Ledger, st.Producer, st.Config
	pipeErr := st.Err()

	gen := NewGenerator(o.Seed, time.Now, Topics{Web: TopicWeb, App: TopicApp, CRM: TopicCRM}, DefaultMix, cfg.Ingest.MaxRecordBytes)
	var produced atomic.Int64
	var inputsMu sync.Mutex
	inputs := make([]string, 0, max(o.Events, 0))
	kinds := map[Kind]int{}
	var produceErr atomic.Value
	genDone := make(chan struct{})
	go func() {
		defer close(genDone)
		Pace(ctx, producer, gen, o.Rate, o.Events, func(rec Record, r *kgo.Record, err error) {
			if err != nil {
				produceErr.Store(err)
				return
			}
			produced.Add(1)
			inputsMu.Lock()
			kinds[rec.Kind]++
			if o.Once {
				inputs = append(inputs, event.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}.String())
			}
			inputsMu.Unlock()
		})
	}()

	sbStats := func() sandbox.MetaStats { return sb.Meta().Stats() }
	status := func() quality.Status {
		return quality.Status{Now: time.Now(), Started: started, Inputs: produced.Load(), Ledger: ledger.Snapshot(),
			Extra: map[string]any{"sandbox": sbStats(), "breakers": st.App.Breakers()}}
	}
	if o.Listen != "" {
		ln, err := net.Listen("tcp", o.Listen)
		if err != nil {
			return nil, fmt.Errorf("status page: listening on %s: %w (use --listen to pick another address)", o.Listen, err)
		}
		srv := &http.Server{Handler: (&quality.Server{Status: status, Monitor: st.Quality, Metrics: metrics.Handler(), Destinations: st.Quality.Breakers}).Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		go st.Quality.Alerter.Run(ctx, st.Config.Quality.Alerts.EvaluateEvery)
		fmt.Fprintf(o.Progress, "status page: http://%s\nreport: http://%s/report\n", ln.Addr(), ln.Addr())
	}
	fmt.Fprintf(o.Progress, "embedded Kafka broker: %s (topics %s, %s, %s)\nMeta sandbox: %s\n", st.Broker.Addr, TopicWeb, TopicApp, TopicCRM, st.SandboxURL)

	prog := newProgress(o.Progress)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.After(o.Timeout)
	for {
		select {
		case err := <-pipeErr:
			if err != nil {
				return nil, fmt.Errorf("pipeline: %w", err)
			}
			return nil, errors.New("pipeline stopped")
		case <-ctx.Done():
			prog.line(status(), true)
			return nil, nil
		case <-deadline:
			if o.Once {
				l := result(ledger, inputsSnapshot(&inputsMu, &inputs), kinds, sbStats(), started)
				prog.line(status(), true)
				return l, fmt.Errorf("timed out after %s with %d of %d records incomplete", o.Timeout, l.Incomplete, l.Inputs)
			}
		case <-tick.C:
			if e := produceErr.Load(); e != nil {
				return nil, fmt.Errorf("producing generated events: %w", e.(error))
			}
			st := status()
			prog.line(st, false)
			if !o.Once {
				continue
			}
			select {
			case <-genDone:
			default:
				continue
			}
			if int(produced.Load()) < o.Events || st.Ledger.Terminal < st.Ledger.Expected || st.Ledger.Expected == 0 {
				continue
			}
			ins := inputsSnapshot(&inputsMu, &inputs)
			if b := ledger.Check(ins); !b.Balanced && b.Duplicates == 0 && len(b.Unknown) == 0 {
				continue // some outcomes still in flight
			}
			prog.line(st, true)
			l := result(ledger, ins, kinds, sbStats(), started)
			if o.JSON {
				enc := json.NewEncoder(o.Out)
				_ = enc.Encode(l)
			} else {
				printLedger(o.Out, l)
			}
			if !l.Balanced {
				return l, fmt.Errorf("the ledger does not balance: %d incomplete records, %d duplicate outcomes", l.Incomplete, l.Duplicates)
			}
			return l, nil
		}
	}
}

func inputsSnapshot(mu *sync.Mutex, in *[]string) []string {
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), (*in)...)
}

func result(l *quality.Ledger, inputs []string, kinds map[Kind]int, sb sandbox.MetaStats, started time.Time) *Ledger {
	s := l.Snapshot()
	b := l.Check(inputs)
	return &Ledger{
		Inputs: len(inputs), Outcomes: s.Outcomes, BySource: s.BySource, ByDestination: s.ByDestination, Reasons: s.Reasons,
		Generated: kinds, Sandbox: sb, Balanced: b.Balanced, Incomplete: len(b.Incomplete), Duplicates: b.Duplicates,
		Seconds: time.Since(started).Seconds(),
	}
}

// printLedger renders the ledger as a readable table.
func printLedger(w io.Writer, l *Ledger) {
	fmt.Fprintf(w, "\nLedger: %d input records in %.1fs\n\n", l.Inputs, l.Seconds)
	var sum int64
	fmt.Fprintf(w, "  %-20s %10s\n", "outcome", "records")
	for _, s := range event.TerminalStatuses {
		if n := l.Outcomes[s]; n > 0 {
			fmt.Fprintf(w, "  %-20s %10d\n", s, n)
			sum += n
		}
	}
	fmt.Fprintf(w, "  %-20s %10d\n\n", "total", sum)
	section := func(title string, m map[string]quality.Counts) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "  %s\n", title)
		for _, k := range keys {
			var parts []string
			for _, s := range event.TerminalStatuses {
				if n := m[k][s]; n > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", s, n))
				}
			}
			fmt.Fprintf(w, "    %-10s %s\n", k, strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
	section("by source", l.BySource)
	section("by destination", l.ByDestination)
	if len(l.Reasons) > 0 {
		fmt.Fprintf(w, "  reasons\n")
		stages := make([]string, 0, len(l.Reasons))
		for k := range l.Reasons {
			stages = append(stages, k)
		}
		sort.Strings(stages)
		for _, st := range stages {
			rs := make([]string, 0, len(l.Reasons[st]))
			for r := range l.Reasons[st] {
				rs = append(rs, r)
			}
			sort.Strings(rs)
			for _, r := range rs {
				fmt.Fprintf(w, "    %-8s %-40s %8d\n", st, r, l.Reasons[st][r])
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  Meta sandbox accepted %d events (%d repeats of an event_id, which Meta deduplicates)\n", l.Sandbox.Accepted, l.Sandbox.Duplicates)
	if l.Balanced {
		fmt.Fprintf(w, "\n  balanced: every input record has exactly one outcome per destination\n")
	} else {
		fmt.Fprintf(w, "\n  NOT BALANCED: %d records incomplete, %d duplicate outcomes\n", l.Incomplete, l.Duplicates)
	}
}
