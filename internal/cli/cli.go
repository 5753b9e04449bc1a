// Package cli implements signalpipe's subcommands. Each returns an exit
// status, so they can be tested in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	versionText = "dev"
)

// Version is set at build time with -ldflags "-X .../cli.Version=…".
var Version = versionText

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, io IO) int
}

func commands() []command {
	return []command{
		{"run", "--config FILE [--stages ingest,process,deliver]", "run the pipeline against your Kafka and the real platform APIs", runCmd},
		{"demo", "[--events N --once [--json]] [--rate R]", "run everything on the embedded default: broker, sandboxes, traffic, pipeline, status page", demoCmd},
		{"generate", "--brokers ADDR [--rate R] [--events N]", "produce the demo's realistic web, app and CRM traffic to any Kafka cluster", generateCmd},
		{"broker", "[--listen ADDR] [--data-dir DIR]", "run the embedded Kafka-compatible broker alone", brokerCmd},
		{"sandbox", "[--listen ADDR] [--fault SPEC]", "run the platform sandboxes alone", sandboxCmd},
		{"validate", "[FILE]", "check JSON-lines events against the schemas (stdin without FILE)", validateCmd},
		{"normalize", "--platform P --field F [FILE]", "print normalized<TAB>sha256 per raw value, as a platform hashes it", normalizeCmd},
		{"preview", "--destination D [--config FILE] [FILE]", "print the exact request body one event would be sent as", previewCmd},
		{"topics", "plan|apply --config FILE", "show, or create, the Kafka topics the config needs", topicsCmd},
		{"replay", "--config FILE --from dlq|retry --destination D [--dry-run]", "send dead-lettered or waiting events to a destination again", replayCmd},
		{"report", "[--since 24h] [--format table|csv|json] [--url URL]", "the signal-quality report of a running instance", reportCmd},
		{"trace", "EVENT_ID [--url URL] [--json]", "one event's path: routed, each destination's answer", traceCmd},
		{"version", "", "print the version", func(_ context.Context, _ []string, io IO) int {
			fmt.Fprintf(io.Out, "signalpipe %s\n", Version)
			return exitOK
		}},
	}
}

// Main dispatches args to a subcommand and returns the exit status.
func Main(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(io.Out)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], io)
		}
	}
	fmt.Fprintf(io.Err, "signalpipe: unknown command %q\n\n", args[0])
	usage(io.Err)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "signalpipe %s — first-party conversion events from Kafka to the ad platforms\n\nUsage:\n", Version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  signalpipe %-10s %s\n  %-21s %s\n", c.name, c.args, "", c.summary)
	}
	fmt.Fprintf(w, "\nRun 'signalpipe COMMAND -h' for a command's flags.\n")
}

// newFlags returns a FlagSet that reports errors to io.Err.
func newFlags(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("signalpipe "+name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	return fs
}

// parse parses flags and returns (exit status, done) for -h or bad flags.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return 0, false
}

// newLogger builds the process logger.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(strings.ToUpper(level)))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func fail(io IO, format string, args ...any) int {
	fmt.Fprintf(io.Err, "signalpipe: "+format+"\n", args...)
	return exitFailed
}
