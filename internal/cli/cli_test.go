package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("../../schemas/examples/web_purchase.json")
	if err != nil {
		t.Fatal(err)
	}
	line := string(bytes.Join(bytes.Fields(good), []byte(" ")))
	in := line + "\n" +
		`{"event_id":"x","event_name":"purchase","event_time":"2026-01-01T00:00:00Z","source":"crm","user":{"email":"a@b.co"},"properties":{"value":"lots"}}` + "\n" +
		`{not json` + "\n"
	code, out, _ := run(t, in, "validate")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	if lines[0] != "ok" {
		t.Errorf("line 1 = %q, want ok", lines[0])
	}
	if !strings.Contains(lines[1], "/properties/value") || !strings.Contains(lines[1], "schema_violation") {
		t.Errorf("line 2 = %q, want the schema error with its JSON path", lines[1])
	}
	if !strings.Contains(lines[2], "malformed_json") {
		t.Errorf("line 3 = %q", lines[2])
	}
	if code, out, _ := run(t, line+"\n", "validate"); code != 0 || strings.TrimSpace(out) != "ok" {
		t.Errorf("all-valid input: exit %d, %q", code, out)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field string
		in    string
		want  string
		code  int
	}{
		// Meta's documented fixtures; digests from sha256sum.
		{"email", "email", " John_Smith@gmail.com\n", "john_smith@gmail.com\t62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f\n", 0},
		{"phone", "phone", "+1 (650) 555-1212\n", "16505551212\te323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176\n", 0},
		{"already hashed passes through", "email", "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F\n",
			"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f\t62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f\n", 0},
		{"empty is an error, not the hash of nothing", "first_name", "   \n", "error\tempty\n", 1},
		{"bad email", "email", "nobody\n", "error\tinvalid_email\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, tt.in, "normalize", "--platform", "meta", "--field", tt.field)
			if code != tt.code || out != tt.want {
				t.Errorf("exit %d, out %q (stderr %q); want exit %d, %q", code, out, errOut, tt.code, tt.want)
			}
		})
	}
	if code, _, errOut := run(t, "", "normalize", "--platform", "myspace", "--field", "email"); code != 2 || !strings.Contains(errOut, "meta") {
		t.Errorf("unknown platform: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "normalize", "--platform", "meta", "--field", "shoe_size"); code != 2 || !strings.Contains(errOut, "email") {
		t.Errorf("unknown field: exit %d, %q", code, errOut)
	}
}

func TestPreview(t *testing.T) {
	t.Parallel()
	seg := `{"type":"track","messageId":"m-1","event":"Order Completed","userId":"u1","timestamp":"` + time.Now().UTC().Format(time.RFC3339) + `",
	  "properties":{"order_id":"o-1","revenue":25,"currency":"EUR"},
	  "context":{"ip":"203.0.113.5","userAgent":"UA/1","page":{"url":"https://x.example/thanks?fbclid=AbC"},"traits":{"email":"Ann@Example.com"}}}`
	code, out, errOut := run(t, seg, "preview", "--destination", "meta")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var body struct {
		Data []struct {
			EventName    string `json:"event_name"`
			EventID      string `json:"event_id"`
			ActionSource string `json:"action_source"`
			UserData     struct {
				Em  []string `json:"em"`
				Fbc string   `json:"fbc"`
			} `json:"user_data"`
			CustomData struct {
				Value    float64 `json:"value"`
				Currency string  `json:"currency"`
			} `json:"custom_data"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &body); err != nil {
		t.Fatalf("preview is not the JSON body: %v\n%s", err, out)
	}
	if len(body.Data) != 1 {
		t.Fatalf("data = %+v", body.Data)
	}
	d := body.Data[0]
	// sha256("ann@example.com"), from sha256sum.
	if d.EventName != "Purchase" || d.EventID != "m-1" || d.ActionSource != "website" || len(d.UserData.Em) != 1 ||
		d.UserData.Em[0] != "71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476" ||
		!strings.HasSuffix(d.UserData.Fbc, ".AbC") || d.CustomData.Value != 25 || d.CustomData.Currency != "eur" {
		t.Errorf("preview body = %s", out)
	}
	if strings.Contains(out, "Ann@Example.com") || strings.Contains(out, "ann@example.com") {
		t.Error("raw email in the preview body")
	}
	if !strings.Contains(errOut, "/events") || strings.Contains(errOut, "access_token=E") {
		t.Errorf("stderr should name the URL without a token: %q", errOut)
	}
	if code, _, errOut := run(t, `{"event_id":"x"}`, "preview", "--destination", "meta"); code != 1 || !strings.Contains(errOut, "invalid") {
		t.Errorf("invalid event: exit %d, %q", code, errOut)
	}
}

// TestPreviewEveryType checks that each destination type previews an event
// without a config file and shows where its secret comes from, never a value.
func TestPreviewEveryType(t *testing.T) {
	t.Parallel()
	ev := `{"type":"track","messageId":"m-2","event":"Order Completed","userId":"u2","timestamp":"` + time.Now().UTC().Format(time.RFC3339) + `",
	  "properties":{"order_id":"o-2","revenue":10,"currency":"USD"},
	  "context":{"userAgent":"UA/2","page":{"url":"https://x.example/thanks"},"traits":{"email":"bo@example.com"}}}`
	for _, typ := range config.Types {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, ev, "preview", "--destination", typ)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			// Platforms whose dedupe key is the order id (Google) carry that
			// instead of the event id.
			if !json.Valid([]byte(out)) || !strings.Contains(out, "m-2") && !strings.Contains(out, "o-2") {
				t.Errorf("body is not JSON carrying the event or order id: %s", out)
			}
			if strings.Contains(out, "bo@example.com") {
				t.Error("raw email in the preview body")
			}
			if !strings.Contains(errOut, "POST ") || !strings.Contains(errOut, "[") || strings.Contains(errOut, "preview-placeholder") {
				t.Errorf("stderr should show the request line with secrets as placeholders: %q", errOut)
			}
		})
	}
	if code, _, errOut := run(t, ev, "preview", "--destination", "nope"); code != 2 || !strings.Contains(errOut, "webhook") {
		t.Errorf("unknown type: exit %d, %q", code, errOut)
	}
}

// TestDemoOnceJSON runs the embedded default end to end, as `make run`'s
// users and CI do, and checks the ledger it prints.
func TestDemoOnceJSON(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "demo", "--events", "3000", "--once", "--json", "--broker", "127.0.0.1:0", "--listen", "", "--timeout", "2m")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var l struct {
		Inputs        int                         `json:"inputs"`
		Outcomes      map[string]int              `json:"outcomes"`
		BySource      map[string]map[string]int   `json:"by_source"`
		ByDestination map[string]map[string]int   `json:"by_destination"`
		Balanced      bool                        `json:"balanced"`
		Seconds       float64                     `json:"seconds"`
		Generated     map[string]int              `json:"generated"`
		Reasons       map[string]map[string]int64 `json:"reasons"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, out)
	}
	// The demo sends to several destinations: every valid record has one
	// outcome at Meta (which takes every conversion), every invalid one its
	// single invalid outcome.
	meta := 0
	for _, n := range l.ByDestination["meta"] {
		meta += n
	}
	bad := l.Generated["malformed_json"] + l.Generated["schema_violation"] + l.Generated["unknown_event"] + l.Generated["oversized"]
	if l.Inputs != 3000 || !l.Balanced || meta+l.Outcomes["invalid"] != l.Inputs {
		t.Errorf("inputs %d, balanced %v, %d outcomes at meta + %d invalid", l.Inputs, l.Balanced, meta, l.Outcomes["invalid"])
	}
	if l.Outcomes["invalid"] != bad {
		t.Errorf("invalid = %d, generator made %d bad records", l.Outcomes["invalid"], bad)
	}
	// A too-old event of a person who denied consent earlier is suppressed
	// before it can expire, so expired may fall short by at most the
	// suppressions.
	if exp, old := l.ByDestination["meta"]["expired"], l.Generated["too_old"]; exp > old || exp < old-l.Outcomes["suppressed"] {
		t.Errorf("expired at meta = %d, generator made %d too-old records (%d suppressed)", exp, old, l.Outcomes["suppressed"])
	}
	for _, d := range []string{"meta", "google", "tiktok", "crm-hook"} {
		if l.ByDestination[d]["delivered"] == 0 {
			t.Errorf("nothing delivered to %s: by_destination %v", d, l.ByDestination)
		}
	}
	if len(l.BySource) != 3 {
		t.Errorf("by_source %v", l.BySource)
	}
}

func TestUsageAndUnknownCommand(t *testing.T) {
	t.Parallel()
	if code, out, _ := run(t, "", "help"); code != 0 || !strings.Contains(out, "demo") || !strings.Contains(out, "normalize") {
		t.Errorf("help: exit %d, %q", code, out)
	}
	if code, _, errOut := run(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "run"); code != 2 || !strings.Contains(errOut, "--config") {
		t.Errorf("run without config: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "demo", "--once"); code != 2 || !strings.Contains(errOut, "--events") {
		t.Errorf("demo --once without --events: exit %d, %q", code, errOut)
	}
}

// TestGenerate produces a fixed number of events to a real broker and checks
// they arrive on the topics named.
func TestGenerate(t *testing.T) {
	t.Parallel()
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", 2, "w", "a", "c")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	code, _, errOut := run(t, "", "generate", "--brokers", b.Addr, "--rate", "2000", "--events", "300", "--topics", "web=w,app=a,crm=c")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics("w", "a", "c"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	per := map[string]int{}
	total := 0
	for total < 300 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 300 (%v)", total, per)
		}
		fs.EachRecord(func(r *kgo.Record) { per[r.Topic]++; total++ })
	}
	if per["w"] == 0 || per["a"] == 0 || per["c"] == 0 {
		t.Errorf("per topic %v: every source should get traffic", per)
	}
	if code, _, errOut := run(t, "", "generate"); code != 2 || !strings.Contains(errOut, "--brokers") {
		t.Errorf("without --brokers: exit %d, %q", code, errOut)
	}
}
