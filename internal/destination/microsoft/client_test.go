package microsoft

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

const (
	uetToken   = "uet-sandbox-token"
	oauthToken = "EwB-oauth-sandbox-token"
	devToken   = "BBD-dev-token"
)

func startSandbox(t testing.TB) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{BearerTokens: map[string]string{"microsoft": uetToken, "microsoft_offline": oauthToken}})
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

func newClient(t testing.TB, c Config, endpoint, token, dev string) *Client {
	t.Helper()
	c.Endpoint = endpoint
	cl, err := New(c, token, dev, nil)
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

// at is a golden event moved to d ago, with its own id.
func at(t testing.TB, path, id string, d time.Duration) *event.Event {
	ev := platformtest.LoadEvent(t, path)
	ev.EventID = id
	ev.EventTime = time.Now().Add(-d)
	return ev
}

const (
	uetEvent     = "testdata/uet/web_purchase.event.json"
	offlineEvent = "testdata/offline/crm_closed_deal.event.json"
)

// TestUETSendPartialFailure: one request with continueOnValidationError; the
// stale event is rejected by index, the others delivered and recorded.
func TestUETSendPartialFailure(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, uetConfig(), url, uetToken, "")
	batch := []destination.Prepared{
		prepare(t, cl, at(t, uetEvent, "a", time.Hour)),
		prepare(t, cl, at(t, uetEvent, "stale", 8*24*time.Hour)),
		prepare(t, cl, at(t, uetEvent, "b", time.Hour)),
	}
	res, err := cl.Send(context.Background(), batch)
	if err != nil || len(res) != 3 {
		t.Fatalf("send: %v %+v", err, res)
	}
	if res[0].Status != destination.Delivered || res[2].Status != destination.Delivered || res[0].PlatformRef == "" {
		t.Errorf("good events: %+v / %+v", res[0], res[2])
	}
	if res[1].Status != destination.Rejected || !strings.Contains(res[1].Detail, "eventTime") {
		t.Errorf("stale event: %+v", res[1])
	}
	evs := sb.Microsoft().Events()
	if len(evs) != 2 || evs[0].EventID != "a" || evs[1].EventID != "b" || evs[0].Account != "12345678" || evs[0].EventName != "purchase" {
		t.Errorf("recorded %+v", evs)
	}
}

// TestOfflineSendPartialFailure: ApplyOfflineConversions with the developer
// token and account headers; a conversion older than 90 days comes back in
// PartialErrors, the other is applied.
func TestOfflineSendPartialFailure(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := newClient(t, offlineConfig(), url, oauthToken, devToken)
	res, err := cl.Send(context.Background(), []destination.Prepared{
		prepare(t, cl, at(t, offlineEvent, "old", 100*24*time.Hour)),
		prepare(t, cl, at(t, offlineEvent, "new", 24*time.Hour)),
	})
	if err != nil || len(res) != 2 {
		t.Fatalf("send: %v %+v", err, res)
	}
	if res[0].Status != destination.Rejected || !strings.Contains(res[0].Detail, "OfflineConversionTimeOutOfWindow") {
		t.Errorf("old conversion: %+v", res[0])
	}
	if res[1].Status != destination.Delivered || res[1].PlatformRef == "" {
		t.Errorf("new conversion: %+v", res[1])
	}
	evs := sb.MicrosoftOffline().Events()
	if len(evs) != 1 || evs[0].Account != "2222" || evs[0].EventName != "Closed deal" {
		t.Errorf("recorded %+v", evs)
	}
}

// TestSendRefusals: request-level answers of both APIs become typed errors
// that never hold a token.
func TestSendRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        func() Config
		event      string
		token, dev string
		platform   string
		fault      *sandbox.Fault
		wantReason string
		retry      bool
	}{
		{"uet wrong token", uetConfig, uetEvent, "uet-wrong", "", "", nil, "auth_error", false},
		{"uet throttled", uetConfig, uetEvent, uetToken, "", "microsoft", &sandbox.Fault{Status: 429, RetryAfter: 2 * time.Second}, "throttled", true},
		{"offline wrong token", offlineConfig, offlineEvent, "EwB-wrong", devToken, "", nil, "auth_error", false},
		{"offline throttled", offlineConfig, offlineEvent, oauthToken, devToken, "microsoft_offline", &sandbox.Fault{Status: 429}, "throttled", true},
		{"offline outage", offlineConfig, offlineEvent, oauthToken, devToken, "microsoft_offline", &sandbox.Fault{Status: 503}, "platform_unavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, url := startSandbox(t)
			if tt.fault != nil {
				sb.SetFault(tt.platform, *tt.fault)
			}
			cl := newClient(t, tt.cfg(), url, tt.token, tt.dev)
			_, err := cl.Send(context.Background(), []destination.Prepared{prepare(t, cl, at(t, tt.event, "x", time.Hour))})
			if err == nil || strings.Contains(err.Error(), tt.token) || (tt.dev != "" && strings.Contains(err.Error(), tt.dev)) {
				t.Fatalf("err = %v (must be set and hold no token)", err)
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

// TestSendNeverLeaksTokens: transport failures are scrubbed of both the
// OAuth and the developer token.
func TestSendNeverLeaksTokens(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cl := newClient(t, offlineConfig(), "http://"+addr, oauthToken, devToken)
	_, err = cl.Send(context.Background(), []destination.Prepared{{Payload: []byte(`{}`)}})
	re, ok := destination.AsRetryable(err)
	if !ok || strings.Contains(re.Error(), oauthToken) || strings.Contains(re.Error(), devToken) {
		t.Fatalf("err = %v, want retryable without tokens", err)
	}
}

// TestBatchLimit: a full batch of 1,000 is one accepted request on both
// APIs.
func TestBatchLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      func() Config
		event    string
		token    string
		recorded func(*sandbox.Server) int64
	}{
		{"uet", uetConfig, uetEvent, uetToken, func(s *sandbox.Server) int64 { return s.Microsoft().Stats().Accepted }},
		{"offline", offlineConfig, offlineEvent, oauthToken, func(s *sandbox.Server) int64 { return s.MicrosoftOffline().Stats().Accepted }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, url := startSandbox(t)
			cl := newClient(t, tt.cfg(), url, tt.token, devToken)
			if cl.Limits().MaxBatch != MaxBatchSize {
				t.Fatalf("MaxBatch = %d", cl.Limits().MaxBatch)
			}
			p := prepare(t, cl, at(t, tt.event, "bulk", time.Hour))
			batch := make([]destination.Prepared, MaxBatchSize)
			for i := range batch {
				batch[i] = p
			}
			res, err := cl.Send(context.Background(), batch)
			if err != nil || len(res) != MaxBatchSize || res[MaxBatchSize-1].Status != destination.Delivered {
				t.Fatalf("send: %v, %d results", err, len(res))
			}
			if got := tt.recorded(sb); got != MaxBatchSize {
				t.Errorf("sandbox accepted %d", got)
			}
		})
	}
}

// TestPreviewHidesTokens: the offline preview shows the account headers and
// where both tokens come from.
func TestPreviewHidesTokens(t *testing.T) {
	t.Parallel()
	cl := newClient(t, offlineConfig(), DefaultCampaignEndpoint, oauthToken, devToken)
	req, err := cl.Preview([]destination.Prepared{prepare(t, cl, at(t, offlineEvent, "p", time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	h := strings.Join(req.Header, "\n")
	for _, want := range []string{"Authorization: Bearer [$MS_OAUTH]", "DeveloperToken: [$MS_DEV]", "CustomerId: 1111", "CustomerAccountId: 2222"} {
		if !strings.Contains(h, want) {
			t.Errorf("preview headers lack %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, oauthToken) || strings.Contains(h, devToken) || req.URL != DefaultCampaignEndpoint+"/CampaignManagement/v13/OfflineConversions/Apply" {
		t.Errorf("preview = %+v", req)
	}
}
