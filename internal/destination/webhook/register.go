package webhook

import (
	"net/http"
	"slices"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Example is a config with placeholder values, for `signalpipe preview`
// without a config file.
func Example() *Config {
	return &Config{URL: "https://example.com/hooks/signalpipe", SecretEnv: "WEBHOOK_SECRET"}
}

// SetName implements destination.Config.
func (c *Config) SetName(name string) { c.Name = name }

// Open implements destination.Config: the HMAC secret comes from the
// environment variable secret_env names.
func (c *Config) Open(getenv func(string) string, hc *http.Client) (destination.Destination, error) {
	return New(*c, getenv(c.SecretEnv), hc)
}

// Preview implements destination.Previewer. The signature depends on the
// send time and the secret, so it is shown as how it is computed.
func (c *Client) Preview(batch []destination.Prepared) (destination.Request, error) {
	body := c.cfg.Body(batch)
	h := []string{
		"Content-Type: application/json",
		HeaderTimestamp + ": [Unix seconds at send]",
		HeaderSignature + ": sha256=[HMAC-SHA256 with $" + c.cfg.SecretEnv + "]",
		HeaderBatchID + ": " + batchID(body),
	}
	for k, v := range c.cfg.Headers {
		h = append(h, http.CanonicalHeaderKey(k)+": "+v)
	}
	slices.Sort(h[4:])
	return destination.Request{Method: http.MethodPost, URL: redactURL(c.cfg.URL), Header: h, Body: body}, nil
}

var (
	_ destination.Config    = (*Config)(nil)
	_ destination.Previewer = (*Client)(nil)
)
