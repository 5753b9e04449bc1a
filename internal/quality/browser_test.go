package quality_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/quality"
)

// chromium finds Debian's chromium. Without it the test skips, except in CI
// (CI=true), where .ci/run installs it and its absence is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); the report page's browser test needs it")
	return ""
}

// artifactDir is where the screenshot goes: $SIGNALPIPE_ARTIFACTS, or the
// test's temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("SIGNALPIPE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestReportPageInBrowser runs the demo stack, sends it generated traffic,
// opens the report page in headless chromium and checks what a performance
// team would read: the totals equal the ledger's, each destination has a
// health light, the trend charts draw lines with data, and a rejection
// reason links to an event's trace, which names the platform's answer.
func TestReportPageInBrowser(t *testing.T) {
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen := demo.NewGenerator(7, time.Now, demo.Topics{Web: demo.TopicWeb, App: demo.TopicApp, CRM: demo.TopicCRM}, demo.DefaultMix, st.Config.Ingest.MaxRecordBytes)
	recs := make([]demo.Record, 400)
	for i := range recs {
		recs[i] = gen.Next()
	}
	inputs, err := st.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WaitBalanced(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	ledger := st.Ledger.Snapshot()

	srv := httptest.NewServer((&quality.Server{Token: "browser-token", Monitor: st.Quality, Status: func() quality.Status { return quality.Status{} }}).Handler())
	defer srv.Close()

	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.WindowSize(1400, 2200), chromedp.DisableGPU,
		// Containers (CI) give /dev/shm 64 MiB, too little for chromium.
		chromedp.Flag("disable-dev-shm-usage", true))...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	keys := []string{"received", "valid", "invalid", "delivered", "rejected", "expired"}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/report?since=1h&token=browser-token"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
	); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, k := range keys {
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#cards [data-k="`+k+`"]`)))
		if err != nil {
			t.Fatalf("reading %s: %v", k, err)
		}
		texts[k] = s
	}
	paths, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('svg#trend path.series')].map(p => p.getAttribute('data-series') + ' ' + p.getAttribute('data-points') + ' ' + p.getAttribute('d'))`))
	if err != nil {
		t.Fatal(err)
	}
	health, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#dests .dest')].map(d => d.dataset.dest + ':' + d.querySelector('[data-k="health"]').textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	firstExample, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.querySelector('#reasons .ex a') || {}).textContent || ''`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactDir(t), "report-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the report page: %s", path)

	// The page's numbers are the ledger's (it has every outcome of the
	// run; since=1h covers all of it).
	num := func(k string) int64 {
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(texts[k]), ",", ""), 10, 64)
		if err != nil {
			t.Errorf("%s shows %q, not a number", k, texts[k])
		}
		return n
	}
	// Outcomes that ended a record before routing name no destination:
	// all outcomes less the per-destination ones.
	var preRouting int64
	for _, n := range ledger.Outcomes {
		preRouting += n
	}
	for _, byStatus := range ledger.ByDestination {
		for _, n := range byStatus {
			preRouting -= n
		}
	}
	want := map[string]int64{
		"received":  int64(len(inputs)),
		"valid":     int64(len(inputs)) - ledger.Outcomes[event.StatusInvalid],
		"invalid":   ledger.Outcomes[event.StatusInvalid],
		"delivered": ledger.Outcomes[event.StatusDelivered],
		"rejected":  ledger.Outcomes[event.StatusRejected],
		"expired":   ledger.Outcomes[event.StatusExpired],
	}
	if ledger.Routed+preRouting != int64(len(inputs)) {
		t.Fatalf("ledger: %d routed + %d ended before routing != %d inputs", ledger.Routed, preRouting, len(inputs))
	}
	for _, k := range keys {
		if got := num(k); got != want[k] {
			t.Errorf("page shows %s %d, ledger has %d", k, got, want[k])
		}
	}
	if want["delivered"] == 0 || want["invalid"] == 0 {
		t.Errorf("the generated traffic should deliver and have invalid records: %v", want)
	}

	// Charts: one path per series, each through every window, and the
	// delivered line is not flat (it has data).
	if len(paths) != 4 {
		t.Fatalf("trend chart has %d series paths, want 4: %q", len(paths), paths)
	}
	for _, p := range paths {
		f := strings.Fields(p)
		if len(f) != 3 || f[1] == "0" || strings.Count(f[2], "L")+1 != atoi(t, f[1]) {
			t.Errorf("series path %q does not pass through every window", p)
		}
		if f[0] == "delivered" && allEqual(yCoords(f[2])) {
			t.Errorf("the delivered line is flat: %s", f[2])
		}
	}
	if len(health) != len(ledger.ByDestination) {
		t.Errorf("health lights %q for destinations %v", health, ledger.ByDestination)
	}
	for _, h := range health {
		if !strings.HasSuffix(h, ":green") && !strings.HasSuffix(h, ":amber") && !strings.HasSuffix(h, ":red") {
			t.Errorf("destination health %q", h)
		}
	}

	// Drill-down: clicking an event name filters the page to it.
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#names tbody tr[data-name="purchase"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#names tbody tr:only-child[data-name="purchase"]`)),
	); err != nil {
		t.Fatalf("drilling down to purchase: %v", err)
	}
	selected, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('f-event_name').value + ' ' + new URLSearchParams(location.search).get('event_name')`))
	if err != nil {
		t.Fatal(err)
	}
	if selected != "purchase purchase" {
		t.Errorf("after the click the filter and URL say %q, want purchase", selected)
	}

	// A rejection example opens its trace, which tells the platform's answer.
	if firstExample == "" {
		if ledger.Outcomes[event.StatusRejected]+ledger.Outcomes[event.StatusExpired] > 0 {
			t.Fatal("rejected or expired events but no example event id on the page")
		}
		return
	}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(fmt.Sprintf("%s/trace?event_id=%s&token=browser-token", srv.URL, firstExample)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
	); err != nil {
		t.Fatal(err)
	}
	summary, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`[data-k="summary"]`)))
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := st.Quality.Traces.Get(firstExample)
	if summary != tr.Summary || !strings.Contains(summary, "meta: ") {
		t.Errorf("trace page says %q, the index %q", summary, tr.Summary)
	}
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// yCoords returns the y of each point of an SVG path of M/L commands.
func yCoords(d string) []string {
	var ys []string
	for _, seg := range strings.FieldsFunc(d, func(r rune) bool { return r == 'M' || r == 'L' }) {
		if _, y, ok := strings.Cut(seg, ","); ok {
			ys = append(ys, y)
		}
	}
	return ys
}

func allEqual(xs []string) bool {
	for _, x := range xs {
		if x != xs[0] {
			return false
		}
	}
	return true
}
