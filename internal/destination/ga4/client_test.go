package ga4

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

func purchase(t *testing.T, c Config, anon, order string) destination.Prepared {
	t.Helper()
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	ev.EventTime = time.Now().Add(-time.Hour)
	ev.User.AnonymousID = anon
	ev.Properties.OrderID = order
	p, err := c.Prepare(ev)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := openAt(t, testConfig(), url, testSecret)
	batch := []destination.Prepared{purchase(t, cl.cfg, "c.1", "o-1"), purchase(t, cl.cfg, "c.2", "o-2"), purchase(t, cl.cfg, "c.1", "o-3")}
	res, err := cl.Send(context.Background(), batch)
	if err != nil || len(res) != 3 {
		t.Fatalf("send: %v %+v", err, res)
	}
	for i, r := range res {
		if r.Status != destination.Delivered {
			t.Errorf("event %d: %+v", i, r)
		}
	}
	evs := sb.GA4().Events()
	if len(evs) != 3 || evs[0].Account != "G-EXAMPLE123" || evs[0].EventID != "o-1" {
		t.Fatalf("recorded %+v", evs)
	}
	if st := sb.GA4().Stats(); st.Requests != 2 {
		t.Errorf("%d requests, want one per user", st.Requests)
	}
}

// TestValidateMode: the validation server's messages reject the invalid
// event only; nothing is recorded.
func TestValidateMode(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	c := testConfig()
	c.ValidationServer = true
	c.EventNames = map[string]string{"lead": "session_start"} // reserved by GA4
	cl := openAt(t, c, url, "any-secret")
	good := purchase(t, cl.cfg, "c.1", "o-1")
	lead := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	lead.EventName, lead.EventTime, lead.User.AnonymousID = "lead", time.Now().Add(-time.Hour), "c.1"
	bad, err := cl.Prepare(lead)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Send(context.Background(), []destination.Prepared{good, bad})
	if err != nil || res[0].Status != destination.Delivered || res[1].Status != destination.Rejected || res[1].Reason != "name_reserved" {
		t.Fatalf("send: %v %+v", err, res)
	}
	// The valid event is recorded as a test event; the invalid request's
	// events are not recorded at all.
	if evs := sb.GA4().Events(); len(evs) != 0 {
		t.Errorf("recorded %+v from a request with a validation message", evs)
	}
}

// TestProductionDropsSilently: the collection endpoint says 204 to an
// invalid request, as GA4 does; the sandbox counts it rejected. This is why
// validate mode exists.
func TestProductionDropsSilently(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	c := testConfig()
	c.EventNames = map[string]string{"lead": "first_visit"}
	cl := openAt(t, c, url, testSecret)
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	ev.EventName, ev.EventTime = "lead", time.Now().Add(-time.Hour)
	p, _ := cl.Prepare(ev)
	res, err := cl.Send(context.Background(), []destination.Prepared{p})
	if err != nil || res[0].Status != destination.Delivered {
		t.Fatalf("send: %v %+v", err, res)
	}
	if st := sb.GA4().Stats(); st.Accepted != 0 || st.Rejected != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestWrongSecretAndRedaction(t *testing.T) {
	t.Parallel()
	_, url := startSandbox(t)
	cl := openAt(t, testConfig(), url, "wrong-secret-xyz")
	_, err := cl.Send(context.Background(), []destination.Prepared{purchase(t, cl.cfg, "c", "o")})
	if pe, ok := destination.AsPermanent(err); !ok || !pe.Credential {
		t.Fatalf("err = %v, want a credential error", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	cl = openAt(t, testConfig(), dead, testSecret)
	_, err = cl.Send(context.Background(), []destination.Prepared{purchase(t, cl.cfg, "c", "o")})
	if re, ok := destination.AsRetryable(err); !ok || strings.Contains(re.Error(), testSecret) {
		t.Fatalf("err = %v: want retryable, without the secret", err)
	}
}

// TestLaterGroupFails: the first user's request goes through, the second
// meets a 503; results are per event, not one error for the whole batch.
func TestLaterGroupFails(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{GA4APISecret: testSecret})
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	cl := openAt(t, testConfig(), srv.URL, testSecret)
	res, err := cl.Send(context.Background(), []destination.Prepared{purchase(t, cl.cfg, "c.1", "o-1"), purchase(t, cl.cfg, "c.2", "o-2")})
	if err != nil || len(res) != 2 {
		t.Fatalf("send: %v %+v", err, res)
	}
	if res[0].Status != destination.Delivered || res[1].Status != destination.Retry || res[1].Reason != "platform_unavailable" {
		t.Errorf("results %+v: want delivered, then retry", res)
	}
	if got := len(sb.GA4().Events()); got != 1 {
		t.Errorf("recorded %d events, want the first user's", got)
	}
}

func TestBatchLimit(t *testing.T) {
	t.Parallel()
	c := testConfig()
	if c.BatchSize != 25 {
		t.Fatalf("default batch %d", c.BatchSize)
	}
	c.BatchSize = 26
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Fatalf("Validate = %v", err)
	}
	c = testConfig()
	c.MaxEventAge = 73 * time.Hour
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "max_event_age") {
		t.Fatalf("Validate = %v", err)
	}
}

func TestConformance(t *testing.T) {
	desttest.Run(t, desttest.Suite{
		New: func(t testing.TB, endpoint string) destination.Destination {
			return openAt(t, testConfig(), endpoint, "conformance-secret")
		},
		Responses: []desttest.Response{
			{Name: "collected", Status: 204, Want: desttest.Delivered},
			{Name: "forbidden", Status: 403, Body: `Forbidden`, Want: desttest.Credential},
			{Name: "bad request", Status: 400, Body: `Bad Request`, Want: desttest.Rejected},
			{Name: "throttled", Status: 429, Want: desttest.Retry, RetryAfter: DefaultThrottleBackoff},
			{Name: "unavailable", Status: 503, Want: desttest.Retry},
		},
	})
}
