package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is the sandbox clock's start in tests: any fixed instant will do.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable sandbox clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: testNow} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startSandbox serves a new sandbox on loopback for the test's duration. A
// nil o.Clock becomes a fake clock at testNow.
func startSandbox(t testing.TB, o Options) (*Server, *httptest.Server) {
	t.Helper()
	if o.Clock == nil {
		o.Clock = newFakeClock().Now
	}
	s := New(o)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

const (
	testPixel = "1234567890"
	testToken = "EAAB-test-token"
)

// validEvent returns a website Purchase event that satisfies every rule.
func validEvent(now time.Time, id string) map[string]any {
	return map[string]any{
		"event_name":       "Purchase",
		"event_time":       now.Add(-time.Minute).Unix(),
		"event_id":         id,
		"action_source":    "website",
		"event_source_url": "https://shop.example/checkout",
		"user_data": map[string]any{
			"em":                []string{sha("john_smith@gmail.com")},
			"ph":                sha("16505551212"),
			"client_ip_address": "203.0.113.7",
			"client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
			"fbc":               "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
			"fbp":               "fb.1.1596403881668.1116446470",
		},
		"custom_data": map[string]any{"currency": "USD", "value": 142.52},
	}
}

// validEvents returns n valid events with IDs prefix-0, prefix-1, ...
func validEvents(now time.Time, prefix string, n int) []any {
	evs := make([]any, n)
	for i := range evs {
		evs[i] = validEvent(now, prefix+"-"+strconv.Itoa(i))
	}
	return evs
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// graphErr decodes the body as a Graph error envelope, failing the test if
// it is not one with exactly Meta's eight fields.
func (r response) graphErr(t testing.TB) graphErrorBody {
	t.Helper()
	var shape map[string]map[string]any
	if err := json.Unmarshal(r.body, &shape); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	want := []string{"message", "type", "code", "error_subcode", "error_user_title", "error_user_msg", "fbtrace_id", "is_transient"}
	if len(shape) != 1 || len(shape["error"]) != len(want) {
		t.Fatalf("error envelope %s: want exactly {\"error\":{%s}}", r.body, strings.Join(want, ","))
	}
	for _, k := range want {
		if _, ok := shape["error"][k]; !ok {
			t.Fatalf("error envelope %s lacks %q", r.body, k)
		}
	}
	var e struct{ Error graphErrorBody }
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

// graphErrorBody mirrors the envelope's "error" object as a client reads it.
type graphErrorBody struct {
	Message        string `json:"message"`
	Type           string `json:"type"`
	Code           int    `json:"code"`
	ErrorSubcode   int    `json:"error_subcode"`
	ErrorUserTitle string `json:"error_user_title"`
	ErrorUserMsg   string `json:"error_user_msg"`
	FBTraceID      string `json:"fbtrace_id"`
	IsTransient    bool   `json:"is_transient"`
}

// success decodes a 200 body, failing the test on any other answer.
func (r response) success(t testing.TB) (eventsReceived int) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s; want 200", r.status, r.body)
	}
	var ok struct {
		EventsReceived int    `json:"events_received"`
		Messages       []any  `json:"messages"`
		FBTraceID      string `json:"fbtrace_id"`
	}
	if err := json.Unmarshal(r.body, &ok); err != nil || ok.Messages == nil || ok.FBTraceID == "" {
		t.Fatalf("success body %s: want events_received, messages and fbtrace_id (err %v)", r.body, err)
	}
	return ok.EventsReceived
}

func do(t testing.TB, client *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// eventsURL is the events endpoint of pixel, with the token in the query
// string when token is not empty.
func eventsURL(ts *httptest.Server, pixel, token string) string {
	u := ts.URL + "/v21.0/" + pixel + "/events"
	if token != "" {
		u += "?access_token=" + token
	}
	return u
}

// postEvents sends {"data": events} as JSON with the token in the query.
func postEvents(t testing.TB, ts *httptest.Server, token string, events []any) response {
	t.Helper()
	return postJSON(t, ts, eventsURL(ts, testPixel, token), map[string]any{"data": events})
}

func postJSON(t testing.TB, ts *httptest.Server, url string, body any) response {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		raw = mustJSON(body)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, ts.Client(), req)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("after %s: still not %s", within, what)
		case <-tick.C:
		}
	}
}
