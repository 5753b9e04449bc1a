package google

import (
	"net/http/httptest"
	"testing"

	"github.com/signalpipe/signalpipe/internal/sandbox"
)

func testConfig() Config {
	c := *Example()
	c.DefaultPhoneRegion = "US"
	c.ApplyDefaults()
	return c
}

// env is a getenv with the refresh-token variables of Example set.
func env(refresh string) func(string) string {
	return func(k string) string {
		switch k {
		case "GOOGLE_REFRESH_TOKEN":
			return refresh
		case "GOOGLE_CLIENT_ID":
			return "client-1"
		case "GOOGLE_CLIENT_SECRET":
			return "secret-1"
		}
		return ""
	}
}

// startSandbox serves a sandbox that accepts only refresh token "rt-good".
func startSandbox(t testing.TB) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{GoogleRefreshToken: "rt-good"})
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

// openAt opens a client whose API calls go to endpoint and whose tokens come
// from tokenBase's /token.
func openAt(t testing.TB, c Config, endpoint, tokenBase, refresh string) *Client {
	t.Helper()
	c.Endpoint = endpoint
	c.TokenURL = tokenBase + "/token"
	d, err := c.Open(env(refresh), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d.(*Client)
}
