package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

const testSecret = "whsec_test-Secret"

func prepared(t *testing.T, c Config, ids ...string) []destination.Prepared {
	t.Helper()
	var out []destination.Prepared
	for _, id := range ids {
		ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
		ev.EventID = id
		p, err := c.Prepare(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestSendAgainstSandbox: real requests to the sandbox's receiver, which
// checks the signature, the body's shape and the absence of raw PII.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	huge := func(t *testing.T, c Config) []destination.Prepared {
		ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
		ev.Properties.OrderID = strings.Repeat("o", 6<<20)
		p, err := c.Prepare(ev)
		if err != nil {
			t.Fatal(err)
		}
		return []destination.Prepared{p}
	}
	tests := []struct {
		name   string
		secret string
		fault  *sandbox.Fault
		batch  func(*testing.T, Config) []destination.Prepared
		check  func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error)
	}{
		{"accepted", testSecret, nil, nil, func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
			if err != nil || len(res) != 2 || res[0].Status != destination.Delivered || res[1].Status != destination.Delivered || len(res[0].PlatformRef) != 16 {
				t.Fatalf("send: %v %+v", err, res)
			}
			evs := sb.Webhook().Events()
			if len(evs) != 2 || evs[0].EventID != "w-1" || evs[1].EventID != "w-2" || evs[0].Endpoint != "acme" || evs[0].EventName != "purchase" || evs[0].Source != "web" {
				t.Fatalf("sandbox recorded %+v", evs)
			}
			var got map[string]any
			if err := json.Unmarshal(evs[0].Raw, &got); err != nil || got["user"].(map[string]any)["email_sha256"] != "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d" {
				t.Errorf("recorded raw %s", evs[0].Raw)
			}
		}},
		{"wrong secret is a credential error", "not-the-secret", nil, nil, func(t *testing.T, sb *sandbox.Server, _ []destination.Result, err error) {
			pe, ok := destination.AsPermanent(err)
			if !ok || !pe.Credential || pe.Reason != "auth_error" || len(pe.PlatformRef) != 16 {
				t.Fatalf("err = %#v", err)
			}
			if strings.Contains(pe.Error(), "not-the-secret") {
				t.Errorf("error leaks the secret: %v", pe)
			}
			if st := sb.Webhook().Stats(); st.Rejected != 1 || st.Accepted != 0 {
				t.Errorf("stats %+v", st)
			}
		}},
		{"503 with Retry-After is retryable", testSecret, &sandbox.Fault{Status: 503, RetryAfter: 2 * time.Second}, nil, func(t *testing.T, sb *sandbox.Server, _ []destination.Result, err error) {
			re, ok := destination.AsRetryable(err)
			if !ok || re.Reason != "platform_unavailable" || re.After != 2*time.Second {
				t.Fatalf("err = %#v", err)
			}
			if st := sb.Webhook().Stats(); st.Faulted != 1 || st.Accepted != 0 {
				t.Errorf("stats %+v", st)
			}
		}},
		{"oversized batch is payload_too_large", testSecret, nil, huge, func(t *testing.T, _ *sandbox.Server, _ []destination.Result, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "payload_too_large" || pe.Credential {
				t.Fatalf("err = %#v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.Options{WebhookSecret: testSecret})
			srv := httptest.NewServer(sb.Handler())
			defer srv.Close()
			if tt.fault != nil {
				sb.SetFault("webhook", *tt.fault)
			}
			c := testConfig()
			c.URL = srv.URL + "/hooks/acme"
			batch := prepared(t, c, "w-1", "w-2")
			if tt.batch != nil {
				batch = tt.batch(t, c)
			}
			cl, err := New(c, tt.secret, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			res, err := cl.Send(context.Background(), batch)
			tt.check(t, sb, res, err)
		})
	}
}

// TestSendRequest checks what a receiver sees: method, headers, and a body
// that is exactly Body(batch), signed with the client's clock.
func TestSendRequest(t *testing.T) {
	t.Parallel()
	type seen struct {
		method string
		header http.Header
		body   []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Header.Clone(), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := testConfig()
	c.URL = srv.URL + "/in"
	c.Headers = map[string]string{"X-Tenant": "acme"}
	cl, err := New(c, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cl.now = func() time.Time { return time.Unix(1795168800, 0) }
	batch := prepared(t, c, "r-1")
	res, err := cl.Send(context.Background(), batch)
	if err != nil || len(res) != 1 || res[0].Status != destination.Delivered {
		t.Fatalf("send: %v %+v", err, res)
	}
	s := <-got
	wantBody := c.Body(batch)
	if s.method != http.MethodPost || string(s.body) != string(wantBody) {
		t.Errorf("%s %s; want POST %s", s.method, s.body, wantBody)
	}
	for k, want := range map[string]string{
		"Content-Type":  "application/json",
		"X-Tenant":      "acme",
		HeaderTimestamp: "1795168800",
		HeaderSignature: Sign(testSecret, 1795168800, wantBody),
		HeaderBatchID:   res[0].PlatformRef,
	} {
		if v := s.header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
}

// TestSendTransportErrors: failures before an answer are retryable and
// never show the URL's credentials.
func TestSendTransportErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close() // nothing listens there now
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	// Cleanup, not defer: the parallel subtests run after this function returns.
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusOK) // what a followed 302 would "deliver" to
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(redirect.Close)

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		kind    string
		reason  string
	}{
		{"connection refused", "http://tok-user:tok-pass@" + closedAddr + "/in?key=querysecret", 0, "retry", "network_error"},
		{"timeout", strings.Replace(hang.URL, "http://", "http://tok-user:tok-pass@", 1) + "/in?key=querysecret", 50 * time.Millisecond, "retry", "timeout"},
		{"redirect is not followed", redirect.URL + "/in?key=querysecret", 0, "permanent", "http_302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			c.URL = tt.url
			if tt.timeout > 0 {
				c.Timeout = tt.timeout
			}
			cl, err := New(c, testSecret, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			_, err = cl.Send(context.Background(), prepared(t, c, "t-1"))
			var msg string
			switch tt.kind {
			case "retry":
				re, ok := destination.AsRetryable(err)
				if !ok || re.Reason != tt.reason {
					t.Fatalf("err = %#v, want retryable %s", err, tt.reason)
				}
				msg = re.Error()
			case "permanent":
				pe, ok := destination.AsPermanent(err)
				if !ok || pe.Reason != tt.reason {
					t.Fatalf("err = %#v, want permanent %s", err, tt.reason)
				}
				msg = pe.Error()
			}
			for _, secret := range []string{"tok-user", "tok-pass", "querysecret", testSecret} {
				if strings.Contains(msg, secret) {
					t.Errorf("error leaks %q: %s", secret, msg)
				}
			}
		})
	}
}

// TestSendCanceled: cancelling the caller's context ends a hanging request
// at once, as a retryable error.
func TestSendCanceled(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := testConfig()
	c.URL = srv.URL
	c.Timeout = time.Minute
	cl, err := New(c, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := cl.Send(ctx, prepared(t, c, "c-1"))
		done <- err
	}()
	<-arrived
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if _, ok := destination.AsRetryable(err); !ok {
			t.Errorf("err = %#v, want retryable", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send returned %s after cancel", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send did not return after its context was cancelled")
	}
}

func TestNewAndClose(t *testing.T) {
	t.Parallel()
	c := testConfig()
	if _, err := New(c, "", nil); err == nil || !strings.Contains(err.Error(), "secret_env") || !strings.Contains(err.Error(), "WEBHOOK_SECRET") {
		t.Errorf("empty secret: err = %v, want it to name secret_env and WEBHOOK_SECRET", err)
	}
	bad := c
	bad.BatchSize = 5000
	if _, err := New(bad, testSecret, nil); err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Errorf("invalid config: err = %v", err)
	}
	c.Name = "crm_hook"
	c.BatchSize = 50
	cl, err := New(c, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := cl.Limits()
	if cl.Name() != "crm_hook" || l.MaxBatch != 50 || l.AllOrNothing || l.MaxEventAge(&event.Event{}) != DefaultMaxEventAge {
		t.Errorf("name %q, limits %+v", cl.Name(), l)
	}
	if _, err := cl.Prepare(&event.Event{EventName: event.NameIdentify}); err == nil {
		t.Error("Prepare(identify) succeeded")
	}
	for i := range 2 {
		if err := cl.Close(); err != nil {
			t.Fatalf("Close #%s: %v", strconv.Itoa(i+1), err)
		}
	}
}
