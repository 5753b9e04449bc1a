package linkedin

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

const sandboxToken = "AQX-linkedin-sandbox-token"

// startSandbox serves the sandbox with LinkedIn's token set.
func startSandbox(t testing.TB) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{BearerTokens: map[string]string{"linkedin": sandboxToken}})
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

func newClient(t testing.TB, endpoint, token string) *Client {
	t.Helper()
	c := testConfig()
	c.Endpoint = endpoint
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

// recent is the golden event an hour ago, so the sandbox's 90-day rule holds.
func recent(t testing.TB, id string) *event.Event {
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	ev.EventID = id
	ev.EventTime = time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	return ev
}

// TestSendAgainstSandbox: one real BATCH_CREATE through the real HTTP
// client; every event delivered and recorded as sent.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, url, sandboxToken)
	batch := []destination.Prepared{prepare(t, cl, recent(t, "ord-1")), prepare(t, cl, recent(t, "ord-2"))}
	res, err := cl.Send(context.Background(), batch)
	if err != nil || len(res) != 2 {
		t.Fatalf("send: %v %+v", err, res)
	}
	for i, r := range res {
		if r.Status != destination.Delivered || r.PlatformRef == "" {
			t.Errorf("result %d = %+v, want delivered with X-Li-Uuid", i, r)
		}
	}
	got := sb.LinkedIn().Events()
	if len(got) != 2 || got[0].EventID != "ord-1" || got[1].EventID != "ord-2" || got[0].Account != "urn:lla:llaPartnerConversion:10000001" {
		t.Fatalf("sandbox recorded %+v", got)
	}
}

// TestSendPartialFailure: a bad event inside a batch is rejected on its own
// with LinkedIn's reason; its neighbours are delivered.
func TestSendPartialFailure(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, url, sandboxToken)
	old := recent(t, "too-old")
	old.EventTime = time.Now().Add(-100 * 24 * time.Hour)
	batch := []destination.Prepared{prepare(t, cl, recent(t, "a")), prepare(t, cl, old), prepare(t, cl, recent(t, "b"))}
	res, err := cl.Send(context.Background(), batch)
	if err != nil || len(res) != 3 {
		t.Fatalf("send: %v %+v", err, res)
	}
	if res[0].Status != destination.Delivered || res[2].Status != destination.Delivered {
		t.Errorf("good events: %+v / %+v", res[0], res[2])
	}
	if res[1].Status != destination.Rejected || res[1].Reason != "invalid_field_value" || !strings.Contains(res[1].Detail, "conversionHappenedAt") {
		t.Errorf("old event: %+v, want rejected naming conversionHappenedAt", res[1])
	}
	if n := len(sb.LinkedIn().Events()); n != 2 {
		t.Errorf("sandbox recorded %d events, want 2", n)
	}
}

// TestSendRefusals: request-level answers from the sandbox become the typed
// errors deliver acts on; the token never appears in them.
func TestSendRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		version    string
		fault      *sandbox.Fault
		wantReason string
		credential bool
		retry      bool
	}{
		{"wrong token", "AQX-wrong-token", "", nil, "auth_error", true, false},
		{"sunset version", sandboxToken, "202301", nil, "unsupported_version", true, false},
		{"throttled", sandboxToken, "", &sandbox.Fault{Status: 429, RetryAfter: 4 * time.Second}, "throttled", false, true},
		{"outage", sandboxToken, "", &sandbox.Fault{Status: 503}, "platform_unavailable", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, url := startSandbox(t)
			if tt.fault != nil {
				sb.SetFault("linkedin", *tt.fault)
			}
			c := testConfig()
			c.Endpoint = url
			if tt.version != "" {
				c.APIVersion = tt.version
			}
			cl, err := New(c, tt.token, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			_, err = cl.Send(context.Background(), []destination.Prepared{prepare(t, cl, recent(t, "x"))})
			if err == nil || strings.Contains(err.Error(), tt.token) {
				t.Fatalf("err = %v (must be set and never hold the token)", err)
			}
			if tt.retry {
				re, ok := destination.AsRetryable(err)
				if !ok || re.Reason != tt.wantReason {
					t.Fatalf("err = %#v, want retryable %s", err, tt.wantReason)
				}
				if tt.fault.RetryAfter > 0 && re.After != tt.fault.RetryAfter {
					t.Errorf("after = %s, want %s", re.After, tt.fault.RetryAfter)
				}
				return
			}
			pe, ok := destination.AsPermanent(err)
			if !ok || pe.Reason != tt.wantReason || pe.Credential != tt.credential {
				t.Fatalf("err = %#v, want permanent %s (credential %v)", err, tt.wantReason, tt.credential)
			}
		})
	}
}

// TestSendNeverLeaksToken: a transport failure's error is scrubbed of the
// token.
func TestSendNeverLeaksToken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	const token = "AQX-very-secret"
	cl := newClient(t, "http://"+addr, token)
	_, err = cl.Send(context.Background(), []destination.Prepared{{Payload: []byte(`{}`)}})
	re, ok := destination.AsRetryable(err)
	if !ok || strings.Contains(re.Error(), token) {
		t.Fatalf("err = %v, want retryable without the token", err)
	}
}

// TestBatchLimit: the full 5,000-event batch the config allows is accepted
// by the sandbox in one request, and one more is refused by config.
func TestBatchLimit(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, url, sandboxToken)
	if got := cl.Limits().MaxBatch; got != MaxBatchSize {
		t.Fatalf("MaxBatch = %d, want %d", got, MaxBatchSize)
	}
	p := prepare(t, cl, recent(t, "bulk"))
	batch := make([]destination.Prepared, MaxBatchSize)
	for i := range batch {
		batch[i] = p
	}
	res, err := cl.Send(context.Background(), batch)
	if err != nil || len(res) != MaxBatchSize || res[MaxBatchSize-1].Status != destination.Delivered {
		t.Fatalf("send of %d: err %v, %d results", MaxBatchSize, err, len(res))
	}
	if st := sb.LinkedIn().Stats(); st.Accepted != MaxBatchSize || st.Duplicates != MaxBatchSize-1 {
		t.Errorf("stats = %+v", st)
	}
	c := testConfig()
	c.BatchSize = MaxBatchSize + 1
	if _, err := New(c, sandboxToken, nil); err == nil {
		t.Error("batch_size over 5000 was accepted")
	}
}

// TestPreviewHidesToken: preview shows the headers LinkedIn requires and the
// variable the token comes from, never a token.
func TestPreviewHidesToken(t *testing.T) {
	t.Parallel()
	cl := newClient(t, "https://api.linkedin.com", "AQX-secret")
	req, err := cl.Preview([]destination.Prepared{prepare(t, cl, recent(t, "p"))})
	if err != nil {
		t.Fatal(err)
	}
	h := strings.Join(req.Header, "\n")
	for _, want := range []string{"Authorization: Bearer [$LINKEDIN_ACCESS_TOKEN]", "LinkedIn-Version: " + testConfig().APIVersion, "X-Restli-Protocol-Version: 2.0.0", "X-RestLi-Method: BATCH_CREATE"} {
		if !strings.Contains(h, want) {
			t.Errorf("preview headers lack %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "AQX-secret") || req.URL != "https://api.linkedin.com/rest/conversionEvents" || !strings.HasPrefix(string(req.Body), `{"elements":[{`) {
		t.Errorf("preview = %+v", req)
	}
}
