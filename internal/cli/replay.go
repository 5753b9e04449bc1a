package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/deliver"
)

const replayUsage = `usage: signalpipe replay --config FILE --from dlq|retry --destination D [flags]

Re-enqueues events that did not reach destination D into sp.out.D, where the
deliver stage sends them again: dead letters of D's deliver stage (--from dlq:
rejected, expired, …) or events waiting in D's retry tiers (--from retry).
Events keep their event ids, so the platform drops any it already has and
running a replay twice is safe. Records that never became events (malformed
JSON, schema violations) are not replayed: fix them at the source.

Flags:
  --config FILE        the pipeline's config (brokers, topic prefix, tiers)
  --from dlq|retry     where to read
  --destination D      the destination's name
  --since T, --until T record time bounds: RFC 3339 (2026-11-20T00:00:00Z) or an
                       age (24h = since 24 hours ago)
  --reason R           only records whose reason starts with R (e.g. too_old)
  --dry-run            count what would move, by reason; move nothing
  --json               print the summary as JSON
  --timeout D          give up after this long (default 10m)
`

// replayCmd is `signalpipe replay`.
func replayCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("replay", io)
	fs.Usage = func() { fmt.Fprint(io.Err, replayUsage) }
	path := fs.String("config", "", "config file (YAML)")
	from := fs.String("from", "", "dlq or retry")
	dest := fs.String("destination", "", "destination name")
	since := fs.String("since", "", "RFC 3339 time or an age such as 24h")
	until := fs.String("until", "", "RFC 3339 time or an age such as 1h")
	reason := fs.String("reason", "", "reason prefix")
	dry := fs.Bool("dry-run", false, "count only")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if code, done := parse(fs, args); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(io.Err, "signalpipe replay: "+format+"\n", a...)
		return exitUsage
	}
	if *path == "" {
		return usageErr("--config FILE is required")
	}
	if *from != "dlq" && *from != "retry" {
		return usageErr("--from must be dlq or retry, got %q", *from)
	}
	now := time.Now()
	sinceT, err := parseWhen(*since, now)
	if err != nil {
		return usageErr("--since: %v", err)
	}
	untilT, err := parseWhen(*until, now)
	if err != nil {
		return usageErr("--until: %v", err)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return fail(io, "%v", err)
	}
	if _, ok := cfg.Destination(*dest); !ok || *dest == "" {
		var names []string
		for _, d := range cfg.Destinations {
			names = append(names, d.Name)
		}
		return usageErr("--destination: %q is not a destination in %s (%s)", *dest, *path, strings.Join(names, ", "))
	}
	d, _ := cfg.Destination(*dest)
	base, err := cfg.Kafka.ClientOpts()
	if err != nil {
		return fail(io, "%v", err)
	}
	cl, err := kgo.NewClient(append(base, kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		return fail(io, "connecting to kafka: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	sum, err := deliver.Replay(ctx, cl, deliver.ReplayOptions{
		From: *from, Destination: d.Name, Topics: cfg.Kafka.Topics(), Tiers: cfg.Deliver.RetryTiers,
		Since: sinceT, Until: untilT, Reason: *reason, DryRun: *dry,
		Progress: func(s deliver.ReplaySummary) {
			fmt.Fprintf(io.Err, "\rscanned %d, matched %d, moved %d", s.Scanned, s.Matched, s.Moved)
		},
	})
	if err != nil {
		return fail(io, "replay: %v (moved %d before the error; replaying again is safe)", err, sum.Moved)
	}
	if *asJSON {
		b, _ := json.Marshal(sum)
		fmt.Fprintf(io.Out, "%s\n", b)
		return exitOK
	}
	verb, n := "moved", sum.Moved
	if *dry {
		verb, n = "would move", sum.Matched
	}
	fmt.Fprintf(io.Err, "\r\033[K")
	fmt.Fprintf(io.Out, "scanned %d records from %s; %s %d to %s\n", sum.Scanned, *from, verb, n, sum.Target)
	if len(sum.ByReason) > 0 {
		w := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "  REASON\tEVENTS")
		for _, r := range slices.Sorted(maps.Keys(sum.ByReason)) {
			fmt.Fprintf(w, "  %s\t%d\n", r, sum.ByReason[r])
		}
		w.Flush()
	}
	return exitOK
}

// parseWhen reads an RFC 3339 time or an age before now; "" is zero.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor an age such as 24h", s)
	}
	return now.Add(-d), nil
}
