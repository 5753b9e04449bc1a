package reddit

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

const sandboxToken = "reddit-sandbox-token"

func startSandbox(t testing.TB) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{BearerTokens: map[string]string{"reddit": sandboxToken}})
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

func newClient(t testing.TB, endpoint, token string, edit func(*Config)) *Client {
	t.Helper()
	c := testConfig()
	c.Endpoint = endpoint
	if edit != nil {
		edit(&c)
	}
	cl, err := New(c, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func prepare(t testing.TB, cl *Client, ev *event.Event) destination.Prepared {
	t.Helper()
	p, err := cl.Prepare(ev)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// recent is the golden event an hour ago, inside Reddit's 7 days.
func recent(t testing.TB, id string) *event.Event {
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	ev.EventID = id
	ev.EventTime = time.Now().Add(-time.Hour)
	return ev
}

// TestSendAgainstSandbox: one real request, every event delivered and
// recorded; test_id marks them as test events.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, url, sandboxToken, func(c *Config) { c.TestID = "t2_test" })
	res, err := cl.Send(context.Background(), []destination.Prepared{prepare(t, cl, recent(t, "ord-1")), prepare(t, cl, recent(t, "ord-2"))})
	if err != nil || len(res) != 2 || res[0].Status != destination.Delivered || res[1].Status != destination.Delivered || res[0].PlatformRef == "" {
		t.Fatalf("send: %v %+v", err, res)
	}
	got := sb.Reddit().Events()
	if len(got) != 2 || got[0].EventID != "ord-1" || !got[0].Test || got[0].Account != "t2_example" || got[0].EventName != TypePurchase {
		t.Fatalf("sandbox recorded %+v", got)
	}
}

// TestSendPartialFailure: the sandbox refuses a batch holding a stale event;
// that event is rejected with the field, the others come back for a retry,
// and resending them alone delivers them.
func TestSendPartialFailure(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, url, sandboxToken, nil)
	old := recent(t, "stale")
	old.EventTime = time.Now().Add(-8 * 24 * time.Hour)
	good1, good2 := prepare(t, cl, recent(t, "a")), prepare(t, cl, recent(t, "b"))
	res, err := cl.Send(context.Background(), []destination.Prepared{good1, prepare(t, cl, old), good2})
	if err != nil || len(res) != 3 {
		t.Fatalf("send: %v %+v", err, res)
	}
	if res[1].Status != destination.Rejected || !strings.Contains(res[1].Detail, "event_at") {
		t.Errorf("stale event: %+v", res[1])
	}
	if res[0].Status != destination.Retry || res[2].Status != destination.Retry {
		t.Errorf("good events: %+v / %+v, want retry", res[0], res[2])
	}
	res, err = cl.Send(context.Background(), []destination.Prepared{good1, good2})
	if err != nil || res[0].Status != destination.Delivered || res[1].Status != destination.Delivered {
		t.Fatalf("resend: %v %+v", err, res)
	}
	if n := len(sb.Reddit().Events()); n != 2 {
		t.Errorf("sandbox recorded %d events, want 2", n)
	}
}

// TestSendRefusals: request-level answers become typed errors without the
// token.
func TestSendRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		pixel      string
		fault      *sandbox.Fault
		wantReason string
		retry      bool
	}{
		{"wrong token", "wrong-reddit-token", "", nil, "auth_error", false},
		{"throttled", sandboxToken, "", &sandbox.Fault{Status: 429, RetryAfter: 3 * time.Second}, "throttled", true},
		{"outage", sandboxToken, "", &sandbox.Fault{Status: 502}, "platform_unavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, url := startSandbox(t)
			if tt.fault != nil {
				sb.SetFault("reddit", *tt.fault)
			}
			cl := newClient(t, url, tt.token, nil)
			_, err := cl.Send(context.Background(), []destination.Prepared{prepare(t, cl, recent(t, "x"))})
			if err == nil || strings.Contains(err.Error(), tt.token) {
				t.Fatalf("err = %v (must be set and never hold the token)", err)
			}
			if tt.retry {
				if re, ok := destination.AsRetryable(err); !ok || re.Reason != tt.wantReason || (tt.fault.RetryAfter > 0 && re.After != tt.fault.RetryAfter) {
					t.Fatalf("err = %#v, want retryable %s", err, tt.wantReason)
				}
				return
			}
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != tt.wantReason || !pe.Credential {
				t.Fatalf("err = %#v, want credential error %s", err, tt.wantReason)
			}
		})
	}
}

func TestSendNeverLeaksToken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const token = "reddit-very-secret"
	cl := newClient(t, "http://"+addr, token, nil)
	_, err = cl.Send(context.Background(), []destination.Prepared{{Payload: []byte(`{}`)}})
	if re, ok := destination.AsRetryable(err); !ok || strings.Contains(re.Error(), token) {
		t.Fatalf("err = %v, want retryable without the token", err)
	}
}

// TestBatchLimit: a full batch of 1,000 is one accepted request.
func TestBatchLimit(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, url, sandboxToken, nil)
	if got := cl.Limits().MaxBatch; got != MaxBatchSize {
		t.Fatalf("MaxBatch = %d", got)
	}
	p := prepare(t, cl, recent(t, "bulk"))
	batch := make([]destination.Prepared, MaxBatchSize)
	for i := range batch {
		batch[i] = p
	}
	if res, err := cl.Send(context.Background(), batch); err != nil || len(res) != MaxBatchSize {
		t.Fatalf("send: %v, %d results", err, len(res))
	}
	if st := sb.Reddit().Stats(); st.Accepted != MaxBatchSize {
		t.Errorf("stats = %+v", st)
	}
}
