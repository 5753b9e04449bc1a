// Command signalpipe moves first-party conversion events from Kafka to the ad
// platforms' conversion APIs. See README.md, or run `signalpipe help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/signalpipe/signalpipe/internal/cli"
)

func main() {
	cli.TuneRuntime()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Main(ctx, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
