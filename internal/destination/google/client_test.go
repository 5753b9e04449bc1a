package google

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"golang.org/x/oauth2"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

func prepared(t *testing.T, c Config, id string) destination.Prepared {
	t.Helper()
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	ev.EventTime = time.Now().Add(-time.Hour)
	ev.Properties.OrderID = id
	p, err := c.Prepare(ev)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSendAgainstSandbox: the token exchange and the ingest call, through
// the real http.Client, against the contract-enforcing emulator.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		refresh  string
		validate bool
		batch    func(t *testing.T, c Config) []destination.Prepared
		check    func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error)
	}{
		{"accepted and recorded", "rt-good", false, func(t *testing.T, c Config) []destination.Prepared {
			return []destination.Prepared{prepared(t, c, "o-1"), prepared(t, c, "o-2")}
		}, func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
			if err != nil || len(res) != 2 || res[0].Status != destination.Delivered || res[0].PlatformRef == "" {
				t.Fatalf("send: %v %+v", err, res)
			}
			evs := sb.Google().Events()
			if len(evs) != 2 || evs[0].EventID != "o-1" || evs[0].Account != "1234567890" {
				t.Fatalf("sandbox recorded %+v", evs)
			}
		}},
		{"validate only stores nothing", "rt-good", true, func(t *testing.T, c Config) []destination.Prepared {
			return []destination.Prepared{prepared(t, c, "o-3")}
		}, func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
			if err != nil || len(res) != 1 || res[0].Status != destination.Delivered {
				t.Fatalf("send: %v %+v", err, res)
			}
			if evs := sb.Google().Events(); len(evs) != 1 || !evs[0].Test {
				t.Fatalf("recorded %+v, want one test event (validated, not stored by Google)", evs)
			}
		}},
		{"revoked refresh token is a credential error without the secret", "rt-revoked-secret", false, func(t *testing.T, c Config) []destination.Prepared {
			return []destination.Prepared{prepared(t, c, "o-4")}
		}, func(t *testing.T, sb *sandbox.Server, _ []destination.Result, err error) {
			pe, ok := destination.AsPermanent(err)
			if !ok || !pe.Credential || pe.Reason != "auth_error" {
				t.Fatalf("err = %v, want a credential error", err)
			}
			if strings.Contains(err.Error(), "rt-revoked-secret") || strings.Contains(err.Error(), "secret-1") {
				t.Errorf("error leaks a secret: %v", err)
			}
			// The one request counted is the refused token exchange.
			if st := sb.Google().Stats(); st.Requests != 1 || st.Rejected != 0 {
				t.Errorf("the ingest API was called without a token: %+v", st)
			}
		}},
		{"one unhashed e-mail fails the whole request", "rt-good", false, func(t *testing.T, c Config) []destination.Prepared {
			bad := prepared(t, c, "o-5")
			bad.Payload = []byte(strings.Replace(string(bad.Payload), "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586", "johnsmith@gmail.com", 1))
			return []destination.Prepared{prepared(t, c, "o-6"), bad}
		}, func(t *testing.T, sb *sandbox.Server, _ []destination.Result, err error) {
			pe, ok := destination.AsPermanent(err)
			if !ok || pe.Reason != "invalid_argument" || !strings.Contains(pe.Detail, "events[1].userData.userIdentifiers[0].emailAddress") {
				t.Fatalf("err = %v, want invalid_argument naming events[1]", err)
			}
			if strings.Contains(pe.Detail, "johnsmith") {
				t.Errorf("detail quotes the e-mail: %s", pe.Detail)
			}
			if n := len(sb.Google().Events()); n != 0 {
				t.Errorf("recorded %d events of a failed request", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, url := startSandbox(t)
			c := testConfig()
			c.ValidateOnly = tt.validate
			cl := openAt(t, c, url, url, tt.refresh)
			res, err := cl.Send(context.Background(), tt.batch(t, cl.cfg))
			tt.check(t, sb, res, err)
		})
	}
}

// TestServiceAccountKeyFile: a service account key's JWT grant against the
// sandbox's token endpoint.
func TestServiceAccountKeyFile(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t)
	key := writeServiceAccountKey(t)
	c := testConfig()
	c.ClientIDEnv, c.ClientSecretEnv, c.RefreshTokenEnv = "", "", ""
	c.ServiceAccountKeyFile = key
	cl := openAt(t, c, url, url, "")
	res, err := cl.Send(context.Background(), []destination.Prepared{prepared(t, cl.cfg, "sa-1")})
	if err != nil || len(res) != 1 || res[0].Status != destination.Delivered {
		t.Fatalf("send: %v %+v", err, res)
	}
	if n := len(sb.Google().Events()); n != 1 {
		t.Fatalf("recorded %d events", n)
	}
}

func TestBatchLimit(t *testing.T) {
	t.Parallel()
	c := testConfig()
	if got := c.BatchSize; got != MaxBatchSize || MaxBatchSize != 2000 {
		t.Fatalf("default batch size %d", got)
	}
	c.BatchSize = 2001
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Fatalf("Validate = %v, want a batch_size error", err)
	}
}

func TestConformance(t *testing.T) {
	desttest.Run(t, desttest.Suite{
		New: func(t testing.TB, endpoint string) destination.Destination {
			// Tokens come from a sandbox of their own, so the classification
			// cases' test server answers only the ingest call.
			tokens := httptest.NewServer(sandbox.New(sandbox.Options{}).Handler())
			t.Cleanup(tokens.Close)
			return openAt(t, testConfig(), endpoint, tokens.URL, "rt-any")
		},
		Responses: []desttest.Response{
			{Name: "accepted", Status: 200, Body: `{"requestId":"r-1"}`, Want: desttest.Delivered},
			{Name: "invalid argument", Status: 400, Body: rpc(400, "INVALID_ARGUMENT", "bad"), Want: desttest.Rejected, Reason: "invalid_argument"},
			{Name: "unauthenticated", Status: 401, Body: rpc(401, "UNAUTHENTICATED", "bad token"), Want: desttest.Credential},
			{Name: "permission denied", Status: 403, Body: rpc(403, "PERMISSION_DENIED", "no"), Want: desttest.Credential},
			{Name: "quota", Status: 429, Body: rpc(429, "RESOURCE_EXHAUSTED", "quota"), Want: desttest.Retry, RetryAfter: time.Minute},
			{Name: "unavailable", Status: 503, Body: rpc(503, "UNAVAILABLE", "down"), Want: desttest.Retry},
		},
	})
}

// TestExporter: the degraded path writes Google Ads' conversions-from-clicks
// file, with the names conversion_action_names gives.
func TestExporter(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.ConversionActionNames = map[string]string{"987654321": "Offline purchase"}
	cl, err := New(c, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ex destination.Exporter = cl
	row, err := ex.ExportRow(platformtest.LoadEvent(t, "testdata/web_purchase.event.json"))
	if err != nil || ex.ExportFormat() != "google-ads-click-conversions" || len(row) != len(ex.ExportHeader()) ||
		row[0] != "Cj0KCQiA-abc_DEF" || row[3] != "Offline purchase" || row[4] != "2026-11-20 10:00:00+00:00" {
		t.Errorf("export %s row %q, %v", ex.ExportFormat(), row, err)
	}
}
