package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signalpipe/signalpipe/internal/quality"
)

// The report and trace commands read a running instance's API (run or
// demo): every replica already holds the whole report, so asking one is
// instant, where building it from Kafka would mean reading all of
// sp.outcomes each time.

// apiFlags are the flags every API-reading command takes.
type apiFlags struct {
	url, tokenEnv *string
	timeout       *time.Duration
}

func addAPIFlags(fs interface {
	String(string, string, string) *string
	Duration(string, time.Duration, string) *time.Duration
}) apiFlags {
	return apiFlags{
		url:      fs.String("url", "http://127.0.0.1:8080", "address of a running signalpipe (run or demo)"),
		tokenEnv: fs.String("token-env", "SIGNALPIPE_TOKEN", "environment variable holding the bearer token, if the instance requires one"),
		timeout:  fs.Duration("timeout", 30*time.Second, "give up after this long"),
	}
}

// get fetches path from the instance and returns the body; a non-2xx
// status is an error quoting the instance's message.
func (a apiFlags) get(ctx context.Context, path string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, *a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*a.url, "/")+path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("--url: %w", err)
	}
	if tok := os.Getenv(*a.tokenEnv); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("asking %s: %w (is signalpipe run or demo serving there?)", *a.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, resp.StatusCode, fmt.Errorf("%s requires a token: set the environment variable %s", *a.url, *a.tokenEnv)
	}
	return body, resp.StatusCode, nil
}

func reportCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("report", io)
	api := addAPIFlags(fs)
	since := fs.String("since", "24h", "start: a duration before now (24h, 168h) or an RFC 3339 time")
	until := fs.String("until", "", "end: a duration before now or an RFC 3339 time (default now)")
	dest := fs.String("destination", "", "only this destination")
	name := fs.String("event-name", "", "only this event name")
	source := fs.String("source", "", "only this source (web, app, crm)")
	format := fs.String("format", "table", "table, csv or json")
	if code, done := parse(fs, args); done {
		return code
	}
	q := url.Values{"since": {*since}}
	for k, v := range map[string]string{"until": *until, "destination": *dest, "event_name": *name, "source": *source} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/api/v1/report?"
	switch *format {
	case "csv":
		path = "/api/v1/report.csv?"
	case "json", "table":
	default:
		fmt.Fprintf(io.Err, "signalpipe report: --format must be table, csv or json, not %q\n", *format)
		return exitUsage
	}
	body, code, err := api.get(ctx, path+q.Encode())
	if err != nil {
		return fail(io, "report: %v", err)
	}
	if code != http.StatusOK {
		return fail(io, "report: %s", strings.TrimSpace(string(body)))
	}
	if *format != "table" {
		_, _ = io.Out.Write(body)
		return exitOK
	}
	var r quality.Report
	if err := json.Unmarshal(body, &r); err != nil {
		return fail(io, "report: decoding the answer: %v", err)
	}
	printReport(io.Out, r)
	return exitOK
}

// printReport renders a report as aligned text tables.
func printReport(out io.Writer, r quality.Report) {
	fmt.Fprintf(out, "signal quality %s → %s (per %s)\n\n", r.Since.UTC().Format("2006-01-02 15:04"), r.Until.UTC().Format("2006-01-02 15:04 MST"), r.Resolution)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	T, P := r.Totals, r.Previous
	fmt.Fprintln(w, "\tthis period\tprevious\tchange\t")
	row := func(label string, cur, prev int64) {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t\n", label, cur, prev, change(float64(cur), float64(prev)))
	}
	row("received", T.Received, P.Received)
	row("valid", T.Valid, P.Valid)
	row("invalid", T.Invalid, P.Invalid)
	row("deduplicated", T.Deduplicated, P.Deduplicated)
	row("consent-suppressed", T.ConsentSuppressed, P.ConsentSuppressed)
	row("routed", T.Routed, P.Routed)
	row("delivered", T.Delivered, P.Delivered)
	row("rejected", T.Rejected, P.Rejected)
	row("retried", T.Retried, P.Retried)
	row("expired", T.Expired, P.Expired)
	row("degraded-exported", T.DegradedExported, P.DegradedExported)
	fmt.Fprintf(w, "match quality (estimate)\t%.1f\t%.1f\t%s\t\n", T.MatchQualityEstimate, P.MatchQualityEstimate, change(T.MatchQualityEstimate, P.MatchQualityEstimate))
	fmt.Fprintf(w, "freshness p50/p95/p99\t%s\t%s\t\t\n", fresh(T.Freshness), fresh(P.Freshness))
	fmt.Fprintf(w, "value received/sent\t%.2f / %.2f\t%.2f / %.2f\t\t\n", T.ValueReceived, T.ValueSent, P.ValueReceived, P.ValueSent)
	fmt.Fprintf(w, "with event id\t%.1f%%\t%.1f%%\t\t\n", 100*T.EventIDShare, 100*P.EventIDShare)
	_ = w.Flush()

	fmt.Fprintln(out, "\ndestinations")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  name\thealth\trouted\tdelivered\trejected\texpired\tmatch est.\tp95\temail\tphone\tclick id\twhy")
	for _, d := range r.Destinations {
		F := d.Figures
		h := quality.Health{Level: "?"}
		if d.Health != nil {
			h = *d.Health
		}
		fmt.Fprintf(w, "  %s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%s\t%.0f%%\t%.0f%%\t%.0f%%\t%s\n", d.Name, h.Level, F.Routed, F.Delivered, F.Rejected, F.Expired,
			F.MatchQualityEstimate, secs(F.Freshness.P95Seconds), 100*F.Coverage["email"], 100*F.Coverage["phone"], 100*F.Coverage["click_id"], strings.Join(h.Reasons, "; "))
	}
	_ = w.Flush()

	fmt.Fprintln(out, "\nevent names")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  name\treceived\tinvalid\trouted\tdelivered\trejected\tchange")
	for _, b := range r.EventNames {
		F := b.Figures
		fmt.Fprintf(w, "  %s\t%d\t%d\t%d\t%d\t%d\t%s\n", b.Name, F.Received, F.Invalid, F.Routed, F.Delivered, F.Rejected,
			change(float64(F.Received+F.Routed), float64(b.Previous.Received+b.Previous.Routed)))
	}
	_ = w.Flush()
	if len(r.TopReasons) > 0 {
		fmt.Fprintln(out, "\ntop reasons")
		w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, x := range r.TopReasons {
			d := x.Destination
			if d == "" {
				d = "ingest"
			}
			fmt.Fprintf(w, "  %s\t%s: %s\t%d\t%s\n", d, x.Status, x.Reason, x.Count, strings.Join(x.Examples, " "))
		}
		_ = w.Flush()
	}
	firing := 0
	for _, a := range r.Alerts {
		if a.State == quality.AlertFiring {
			firing++
			fmt.Fprintf(out, "\nFIRING %s\n", a.Message)
		}
	}
	if firing == 0 {
		fmt.Fprintln(out, "\nno alert firing")
	}
}

func change(cur, prev float64) string {
	if prev == 0 {
		if cur == 0 {
			return "–"
		}
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", 100*(cur-prev)/prev)
}

func secs(s float64) string {
	if s == 0 {
		return "–"
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

func fresh(f quality.Freshness) string {
	return secs(f.P50Seconds) + " / " + secs(f.P95Seconds) + " / " + secs(f.P99Seconds)
}

func traceCmd(ctx context.Context, args []string, io IO) int {
	fs := newFlags("trace", io)
	api := addAPIFlags(fs)
	asJSON := fs.Bool("json", false, "print the trace as JSON")
	// Accept the event id before or after the flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if code, done := parse(fs, args); done {
		return code
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	if id == "" {
		fmt.Fprintln(io.Err, "signalpipe trace: give one EVENT_ID")
		return exitUsage
	}
	body, code, err := api.get(ctx, "/api/v1/events/"+url.PathEscape(id))
	if err != nil {
		return fail(io, "trace: %v", err)
	}
	if code == http.StatusNotFound {
		return fail(io, "trace: %s is not in the trace index (it keeps the most recently seen events; see quality.trace_events)", id)
	}
	if code != http.StatusOK {
		return fail(io, "trace: %s", strings.TrimSpace(string(body)))
	}
	if *asJSON {
		_, _ = io.Out.Write(body)
		return exitOK
	}
	var t quality.Trace
	if err := json.Unmarshal(body, &t); err != nil {
		return fail(io, "trace: decoding the answer: %v", err)
	}
	printTrace(io.Out, t)
	return exitOK
}

func printTrace(out io.Writer, t quality.Trace) {
	fmt.Fprintf(out, "event %s: %s from %s, event time %s\n", t.EventID, t.EventName, t.Source, t.EventTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "input record(s): %s\n\n%s\n\n", strings.Join(t.Records, ", "), t.Summary)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range t.Steps {
		what := string(s.Status)
		if s.Destination != "" {
			what = s.Destination + ": " + what
		}
		if len(s.Destinations) > 0 {
			what += " → " + strings.Join(s.Destinations, ", ")
		}
		var extra []string
		if s.Reason != "" {
			extra = append(extra, s.Reason)
		}
		if s.Detail != "" {
			extra = append(extra, s.Detail)
		}
		if s.Attempts > 0 {
			extra = append(extra, fmt.Sprintf("%d attempt(s)", s.Attempts))
		}
		if s.PlatformRef != "" {
			extra = append(extra, "platform ref "+s.PlatformRef)
		}
		if len(s.MatchKeys) > 0 {
			keys := append([]string(nil), s.MatchKeys...)
			sort.Strings(keys)
			extra = append(extra, "identifiers "+strings.Join(keys, ","))
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", s.At.UTC().Format("2006-01-02 15:04:05.000"), what, strings.Join(extra, " · "))
	}
	_ = w.Flush()
}
