package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func demoCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("demo", io)
	events := fs.Int("events", 0, "generate N events (0: keep generating until stopped)")
	once := fs.Bool("once", false, "with --events: wait for every outcome, print the ledger, exit 0 only if it balances")
	asJSON := fs.Bool("json", false, "with --once: print the ledger as one JSON object")
	rate := fs.Int("rate", 0, "events per second (default: 200 when running until stopped, as fast as possible with --events)")
	broker := fs.String("broker", "127.0.0.1:9092", "address of the embedded Kafka broker (kcat -b ADDR works)")
	listen := fs.String("listen", "127.0.0.1:8080", "address of the status page; empty turns it off")
	dataDir := fs.String("data-dir", "", "persist the embedded broker's data here")
	seed := fs.Uint64("seed", 1, "seed of the traffic generator (same seed, same traffic)")
	timeout := fs.Duration("timeout", 10*time.Minute, "with --once: give up after this long")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	var faults repeated
	fs.Var(&faults, "sandbox-fault", "make a sandbox fail, e.g. meta:status=503,for=30s (repeatable)")
	if code, done := parse(fs, args); done {
		return code
	}
	if *once && *events <= 0 {
		fmt.Fprintln(io.Err, "signalpipe demo: --once needs --events N")
		return exitUsage
	}
	if *rate == 0 && *events == 0 {
		*rate = 200
	}
	l, err := demo.Run(ctx, demo.Options{
		Events: *events, Once: *once, Rate: *rate, Broker: *broker, Listen: *listen, DataDir: *dataDir, Seed: *seed,
		Timeout: *timeout, SandboxFaults: faults, JSON: *asJSON, Out: io.Out, Progress: io.Err,
		Logger: newLogger(io.Err, *logLevel, "text"),
	})
	if err != nil {
		return fail(io, "demo: %v", err)
	}
	if *once && (l == nil || !l.Balanced) {
		return exitFailed
	}
	return exitOK
}

func brokerCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("broker", io)
	listen := fs.String("listen", "127.0.0.1:9092", "address to listen on")
	dataDir := fs.String("data-dir", "", "persist topics and offsets here (reloaded on start)")
	partitions := fs.Int("partitions", 6, "partitions of topics created on first use")
	topics := fs.String("topics", "events.web,events.app,events.crm", "topics to create at start (comma-separated)")
	if code, done := parse(fs, args); done {
		return code
	}
	var ts []string
	for _, t := range strings.Split(*topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			ts = append(ts, t)
		}
	}
	b, err := kafkax.StartEmbedded(*listen, *dataDir, int32(*partitions), ts...)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer b.Close()
	fmt.Fprintf(io.Err, "embedded Kafka broker listening on %s (topics: %s); Ctrl-C stops it\n", b.Addr, strings.Join(ts, ", "))
	<-ctx.Done()
	return exitOK
}

func sandboxCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("sandbox", io)
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on")
	adminEnv := fs.String("admin-token-env", "", "environment variable holding a token the /_sandbox admin API then requires")
	var faults, tokens, bearers repeated
	fs.Var(&faults, "fault", "make a platform fail, e.g. meta:status=503,retry_after=5s,for=30s (repeatable)")
	fs.Var(&bearers, "bearer-token", "PLATFORM=TOKEN_ENV: a bearer-token platform (linkedin, reddit, microsoft, microsoft_offline) accepts only the token in TOKEN_ENV (repeatable; default: any token)")
	fs.Var(&tokens, "meta-token", "PIXEL=TOKEN_ENV: pixel PIXEL accepts the token in environment variable TOKEN_ENV (repeatable; default: any token)")
	if code, done := parse(fs, args); done {
		return code
	}
	opts := sandbox.Options{}
	if *adminEnv != "" {
		if opts.AdminToken = os.Getenv(*adminEnv); opts.AdminToken == "" {
			return fail(io, "--admin-token-env: environment variable %s is empty", *adminEnv)
		}
	}
	for _, t := range tokens {
		pixel, env, ok := strings.Cut(t, "=")
		if !ok || os.Getenv(env) == "" {
			return fail(io, "--meta-token %q: want PIXEL=TOKEN_ENV with TOKEN_ENV set", t)
		}
		if opts.MetaTokens == nil {
			opts.MetaTokens = map[string]string{}
		}
		opts.MetaTokens[pixel] = os.Getenv(env)
	}
	for _, t := range bearers {
		platform, env, ok := strings.Cut(t, "=")
		if !ok || os.Getenv(env) == "" {
			return fail(io, "--bearer-token %q: want PLATFORM=TOKEN_ENV with TOKEN_ENV set", t)
		}
		if opts.BearerTokens == nil {
			opts.BearerTokens = map[string]string{}
		}
		opts.BearerTokens[platform] = os.Getenv(env)
	}
	sb := sandbox.New(opts)
	for _, f := range faults {
		p, fault, err := sandbox.ParseFaultFlag(f)
		if err != nil {
			return fail(io, "--fault: %v", err)
		}
		sb.SetFault(p, fault)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(io, "listening on %s: %v", *listen, err)
	}
	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(io.Err, "platform sandboxes on http://%s — Meta: POST /v21.0/{pixel}/events; admin: /_sandbox/health, /_sandbox/meta/stats, /_sandbox/faults\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(io, "%v", err)
	}
	return exitOK
}
