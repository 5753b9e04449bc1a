package ga4

import (
	"net/http/httptest"
	"testing"

	"github.com/signalpipe/signalpipe/internal/sandbox"
)

const testSecret = "ga4-secret-value"

func testConfig() Config {
	c := *Example()
	c.DefaultPhoneRegion = "US"
	c.ApplyDefaults()
	return c
}

func startSandbox(t testing.TB) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{GA4APISecret: testSecret})
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

func openAt(t testing.TB, c Config, endpoint, secret string) *Client {
	t.Helper()
	c.Endpoint = endpoint
	cl, err := New(c, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}
