package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/quality"
)

func runCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("run", io)
	path := fs.String("config", "", "config file (YAML); see config/example.yaml")
	stages := fs.String("stages", "", "comma-separated stages to run (ingest,process,deliver); default all")
	if code, done := parse(fs, args); done {
		return code
	}
	if *path == "" {
		fmt.Fprintln(io.Err, "signalpipe run: --config FILE is required (start from config/example.yaml)")
		return exitUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return fail(io, "%v", err)
	}
	log := newLogger(io.Err, cfg.Log.Level, cfg.Log.Format)
	var st []string
	if *stages != "" {
		st = strings.Split(*stages, ",")
	}
	pipe, err := app.New(cfg, app.Options{Logger: log, Stages: st})
	if err != nil {
		return fail(io, "%v", err)
	}
	if cfg.Server.Listen != "" {
		token := ""
		if cfg.Server.TokenEnv != "" {
			if token = os.Getenv(cfg.Server.TokenEnv); token == "" {
				return fail(io, "server.token_env: environment variable %s is empty", cfg.Server.TokenEnv)
			}
		}
		stop, err := serveStatus(ctx, cfg, token)
		if err != nil {
			return fail(io, "%v", err)
		}
		defer stop()
		log.Info("status page", "url", "http://"+cfg.Server.Listen)
	}
	if err := pipe.Run(ctx); err != nil {
		return fail(io, "%v", err)
	}
	log.Info("stopped")
	return exitOK
}

// serveStatus follows sp.outcomes into a ledger and serves the status page.
func serveStatus(ctx context.Context, cfg config.Config, token string) (func(), error) {
	base, err := cfg.Kafka.ClientOpts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(base, quality.FollowOpts(cfg.Kafka.Topics().Outcomes())...)...)
	if err != nil {
		return nil, fmt.Errorf("connecting to kafka: %w", err)
	}
	ledger := quality.NewLedger(false)
	fctx, cancel := context.WithCancel(ctx)
	go quality.Follow(fctx, cl, ledger, nil)
	started := time.Now()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		cancel()
		cl.Close()
		return nil, fmt.Errorf("server.listen: %w", err)
	}
	srv := &http.Server{
		Handler: (&quality.Server{Token: token, Status: func() quality.Status {
			return quality.Status{Now: time.Now(), Started: started, Ledger: ledger.Snapshot()}
		}}).Handler(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		_ = srv.Close()
		cancel()
		cl.Close()
	}, nil
}
