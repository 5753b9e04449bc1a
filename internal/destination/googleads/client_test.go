package googleads

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// click prepares the web purchase with order id and gclid replaced.
func click(t *testing.T, c Config, order, gclid string) destination.Prepared {
	t.Helper()
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	ev.EventTime = time.Now().Add(-time.Hour)
	ev.Properties.OrderID = order
	ev.Context.ClickIDs.Gclid = gclid
	p, err := c.Prepare(ev)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSendPartialFailure: one request, one result per row, each classified
// from the sandbox's GoogleAdsFailure.
func TestSendPartialFailure(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	cl := openAt(t, testConfig(), url+"/google_ads", url)
	ctx := context.Background()
	if res, err := cl.Send(ctx, []destination.Prepared{click(t, cl.cfg, "o-1", "g-1")}); err != nil || res[0].Status != destination.Delivered {
		t.Fatalf("first upload: %v %+v", err, res)
	}
	unhashed := click(t, cl.cfg, "o-4", "g-4")
	unhashed.Payload = []byte(strings.Replace(string(unhashed.Payload), "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586", "John.Smith@gmail.com", 1))
	batch := []destination.Prepared{
		click(t, cl.cfg, "o-2", "g-2"),
		click(t, cl.cfg, "o-1", "g-1b"), // order id already uploaded
		click(t, cl.cfg, "o-3", "TEST_TOO_RECENT-1"),
		unhashed,
	}
	res, err := cl.Send(ctx, batch)
	if err != nil || len(res) != 4 {
		t.Fatalf("send: %v %+v", err, res)
	}
	if res[0].PlatformRef == "" || res[0].PlatformRef != res[3].PlatformRef {
		t.Errorf("platform refs %q/%q: want the request id on every row", res[0].PlatformRef, res[3].PlatformRef)
	}
	want := []struct {
		status destination.Status
		reason string
		after  time.Duration
	}{
		{destination.Delivered, "", 0},
		{destination.Delivered, "duplicate", 0},
		{destination.Retry, "too_recent_event", 6 * time.Hour},
		{destination.Rejected, "invalid_user_identifier", 0},
	}
	for i, w := range want {
		if r := res[i]; r.Status != w.status || r.Reason != w.reason || r.RetryAfter != w.after {
			t.Errorf("row %d = %+v, want %v %q after %s", i, r, w.status, w.reason, w.after)
		}
	}
	if strings.Contains(res[3].Detail, "John") || strings.Contains(res[3].Detail, "john") {
		t.Errorf("detail quotes the e-mail: %q", res[3].Detail)
	}
	if got := len(sb.GoogleAds().Events()); got != 2 {
		t.Errorf("sandbox recorded %d conversions, want o-1 and o-2", got)
	}
}

// TestSendHeaders: developer-token and login-customer-id reach the API, and
// the API version is in the path.
func TestSendHeaders(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	var mu sync.Mutex
	var seen http.Header
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/google_ads/") {
			mu.Lock()
			seen, path = r.Header.Clone(), r.URL.Path
			mu.Unlock()
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := testConfig()
	c.LoginCustomerID = "5555555555"
	c.APIVersion = "v20"
	cl := openAt(t, c, srv.URL+"/google_ads", srv.URL)
	if res, err := cl.Send(context.Background(), []destination.Prepared{click(t, cl.cfg, "o-1", "g")}); err != nil || res[0].Status != destination.Delivered {
		t.Fatalf("send: %v %+v", err, res)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen.Get("developer-token") != "dev-token-secret" || seen.Get("login-customer-id") != "5555555555" ||
		!strings.HasPrefix(seen.Get("Authorization"), "Bearer ya29.") {
		t.Errorf("headers %v", seen)
	}
	if path != "/google_ads/v20/customers/1234567890:uploadClickConversions" {
		t.Errorf("path %s", path)
	}
}

// TestSendNeverLeaksSecrets: a transport failure's error holds neither the
// access token nor the developer token.
func TestSendNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	_, url := startSandbox(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	cl := openAt(t, testConfig(), dead, url)
	_, err = cl.Send(context.Background(), []destination.Prepared{click(t, cl.cfg, "o-1", "g")})
	re, ok := destination.AsRetryable(err)
	if !ok {
		t.Fatalf("err = %v, want retryable", err)
	}
	tok, _ := cl.tokens.Token()
	for _, s := range []string{"dev-token-secret", tok.AccessToken, "secret-1", "rt-good"} {
		if strings.Contains(re.Error(), s) {
			t.Errorf("error leaks a secret: %q", re.Error())
		}
	}
}

// TestAdjustments: a conversion, then its restatement (delivered), the
// same restatement again (already exists: delivered) and one for an
// unknown order (rejected).
func TestAdjustments(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	ctx := context.Background()
	up := openAt(t, testConfig(), url+"/google_ads", url)
	if res, err := up.Send(ctx, []destination.Prepared{click(t, up.cfg, "lead-9", "g-9")}); err != nil || res[0].Status != destination.Delivered {
		t.Fatalf("upload: %v %+v", err, res)
	}
	adj := openAt(t, adjustConfig(), url+"/google_ads", url)
	restate := func(order string) destination.Prepared {
		ev := platformtest.LoadEvent(t, "testdata/adjustments/deal_restated.event.json")
		ev.EventTime = time.Now().Add(-time.Minute).Truncate(time.Second)
		ev.Properties.OrderID = order
		p, err := adj.Prepare(ev)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	res, err := adj.Send(ctx, []destination.Prepared{restate("lead-9"), restate("lead-unknown")})
	if err != nil || res[0].Status != destination.Delivered || res[1].Status != destination.Rejected || res[1].Reason != "conversion_not_found" {
		t.Fatalf("adjust: %v %+v", err, res)
	}
	res, err = adj.Send(ctx, []destination.Prepared{restate("lead-9")})
	if err != nil || res[0].Status != destination.Delivered || res[0].Reason != "duplicate" {
		t.Fatalf("again: %v %+v", err, res)
	}
	var kinds []string
	for _, e := range sb.GoogleAds().Events() {
		kinds = append(kinds, e.EventName)
	}
	if strings.Join(kinds, ",") != "click_conversion,adjustment" {
		t.Errorf("recorded %v", kinds)
	}
}

func TestValidateOnly(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	c := testConfig()
	c.ValidateOnly = true
	cl := openAt(t, c, url+"/google_ads", url)
	res, err := cl.Send(context.Background(), []destination.Prepared{click(t, cl.cfg, "o-1", "g")})
	if err != nil || res[0].Status != destination.Delivered {
		t.Fatalf("send: %v %+v", err, res)
	}
	if evs := sb.GoogleAds().Events(); len(evs) != 1 || !evs[0].Test {
		t.Errorf("recorded %+v, want one test event", evs)
	}
}

func responses() []desttest.Response {
	return []desttest.Response{
		{Name: "accepted", Status: 200, Body: `{"results":[{"gclid":"g"}]}`, Want: desttest.Delivered},
		{Name: "already exists", Status: 200, Body: string(partial(1, 0, "conversionUploadError", "CLICK_CONVERSION_ALREADY_EXISTS")), Want: desttest.Delivered, Reason: "duplicate"},
		{Name: "too recent", Status: 200, Body: string(partial(1, 0, "conversionUploadError", "TOO_RECENT_EVENT")), Want: desttest.Retry, RetryAfter: 6 * time.Hour},
		{Name: "expired", Status: 200, Body: string(partial(1, 0, "conversionUploadError", "EXPIRED_EVENT")), Want: desttest.Rejected, Reason: "expired_event"},
		{Name: "unauthenticated", Status: 401, Body: string(failure(401, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_INVALID")), Want: desttest.Credential},
		{Name: "quota", Status: 429, Body: string(failure(429, "RESOURCE_EXHAUSTED", "quotaError", "RESOURCE_EXHAUSTED")), Want: desttest.Retry},
		{Name: "unavailable", Status: 503, Body: `unavailable`, Want: desttest.Retry},
	}
}

func TestConformance(t *testing.T) {
	t.Run("click_conversions", func(t *testing.T) {
		desttest.Run(t, desttest.Suite{
			New: func(t testing.TB, endpoint string) destination.Destination {
				tokens := httptest.NewServer(sandbox.New(sandbox.Options{}).Handler())
				t.Cleanup(tokens.Close)
				return openAt(t, testConfig(), endpoint+"/google_ads", tokens.URL)
			},
			Responses: responses(),
		})
	})
	t.Run("adjustments", func(t *testing.T) {
		desttest.Run(t, desttest.Suite{
			New: func(t testing.TB, endpoint string) destination.Destination {
				tokens := httptest.NewServer(sandbox.New(sandbox.Options{}).Handler())
				t.Cleanup(tokens.Close)
				return openAt(t, adjustConfig(), endpoint+"/google_ads", tokens.URL)
			},
			Testdata:  "testdata/adjustments",
			Responses: responses(),
			// Adjustments need their conversions uploaded first, which the
			// split check cannot do; TestAdjustments covers the sandbox.
			NoSandbox: true,
		})
	})
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    Config
		mutate func(*Config)
		want   string
	}{
		{"example valid", testConfig(), func(*Config) {}, ""},
		{"adjustments valid", adjustConfig(), func(*Config) {}, ""},
		{"batch over 2000", testConfig(), func(c *Config) { c.BatchSize = 2001 }, "batch_size"},
		{"bad version", testConfig(), func(c *Config) { c.APIVersion = "21" }, "api_version"},
		{"unknown upload", testConfig(), func(c *Config) { c.Upload = "refunds" }, "upload"},
		{"bad adjustment type", adjustConfig(), func(c *Config) { c.AdjustmentTypes[event.NameSignUp] = "REFUND" }, "adjustment_types.sign_up"},
		{"adjusted event without type", adjustConfig(), func(c *Config) { c.Events = append(c.Events, event.NamePurchase) }, "events"},
		{"developer token in the file", testConfig(), func(c *Config) { c.DeveloperTokenEnv = "abc-123-xyz" }, "developer_token_env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.cfg
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want+":") {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestExporter: the degraded path's file matches the entry's upload kind.
func TestExporter(t *testing.T) {
	t.Parallel()
	_, url := startSandbox(t)
	clicks := openAt(t, testConfig(), url+"/google_ads", url)
	adj := openAt(t, adjustConfig(), url+"/google_ads", url)
	var ex destination.Exporter = adj
	if ex.ExportFormat() != "google-ads-conversion-adjustments" || ex.ExportHeader()[3] != "Adjustment Type" {
		t.Errorf("adjustments export %s %v", ex.ExportFormat(), ex.ExportHeader())
	}
	row, err := adj.ExportRow(platformtest.LoadEvent(t, "testdata/adjustments/deal_restated.event.json"))
	if err != nil || row[0] != "lead-9" || row[3] != "RESTATEMENT" || row[4] != "1250.5" || row[5] != "EUR" {
		t.Errorf("adjustment row %q, %v", row, err)
	}
	if clicks.ExportFormat() != "google-ads-click-conversions" {
		t.Errorf("clicks export %s", clicks.ExportFormat())
	}
	if _, err := clicks.ExportRow(&event.Event{EventName: event.NamePageView}); err == nil {
		t.Error("an event the entry does not take must not be exported")
	}
}
