package googleads

import (
	"net/http/httptest"
	"testing"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

func testConfig() Config {
	c := *Example()
	c.DefaultPhoneRegion = "US"
	c.ApplyDefaults()
	return c
}

// adjustConfig is an entry that restates closed deals and retracts
// sign-ups (an arbitrary pairing for tests).
func adjustConfig() Config {
	c := *Example()
	c.Upload = UploadAdjustments
	c.AdjustmentTypes = map[string]string{event.NameClosedDeal: Restatement, event.NameSignUp: Retraction, event.NameLead: Enhancement}
	c.ApplyDefaults()
	return c
}

func env(k string) string {
	switch k {
	case "GOOGLE_REFRESH_TOKEN":
		return "rt-good"
	case "GOOGLE_CLIENT_ID":
		return "client-1"
	case "GOOGLE_CLIENT_SECRET":
		return "secret-1"
	case "GOOGLE_ADS_DEVELOPER_TOKEN":
		return "dev-token-secret"
	}
	return ""
}

// startSandbox serves a sandbox; the Google Ads emulator is under
// /google_ads.
func startSandbox(t testing.TB) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

// openAt opens c with API calls to endpoint and tokens from tokenBase.
func openAt(t testing.TB, c Config, endpoint, tokenBase string) *Client {
	t.Helper()
	c.Endpoint = endpoint
	c.TokenURL = tokenBase + "/token"
	d, err := c.Open(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d.(*Client)
}
