package ga4

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

const testSecret = "ga4-secret-value"

func testConfig() Config {
	c := *Example()
	c.DefaultPhoneRegion = "US"
	c.ApplyDefaults()
	return c
}

func loadEvent(t testing.TB, path string) *event.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return &ev
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
