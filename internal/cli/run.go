package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/telemetry"
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
	// The metrics read the pipeline's breakers and the lag poller, both
	// made after them.
	var pipe *app.App
	lagOf := func() map[string]int64 { return nil }
	var st []string
	if *stages != "" {
		st = strings.Split(*stages, ",")
	}
	metrics, err := telemetry.New(telemetry.Options{
		Breakers:    func() map[string]string { return breakerStates(pipe) },
		Lag:         func() map[string]int64 { return lagOf() },
		Validations: func() (uint64, uint64) { return pipe.Validations() },
	})
	if err != nil {
		return fail(io, "%v", err)
	}
	if telemetry.TracingConfigured(os.Getenv) {
		stopTracing, err := metrics.StartTracing(ctx, Version)
		if err != nil {
			return fail(io, "%v", err)
		}
		defer func() { _ = stopTracing(context.WithoutCancel(ctx)) }()
		log.Info("sending traces over OTLP")
	}
	pipe, err = app.New(cfg, app.Options{Logger: log, Stages: st, OnCommit: metrics.OnCommit, WrapHandler: metrics.Wrap})
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
		stop, err := serveQuality(ctx, cfg, token, qualityDeps{pipe: pipe, metrics: metrics, log: log, lag: &lagOf})
		if err != nil {
			return fail(io, "%v", err)
		}
		defer stop()
		log.Info("status page", "url", "http://"+cfg.Server.Listen, "report", "http://"+cfg.Server.Listen+"/report")
	}
	if err := pipe.Run(ctx); err != nil {
		return fail(io, "%v", err)
	}
	log.Info("stopped")
	return exitOK
}
