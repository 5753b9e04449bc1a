package ga4

import (
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Example is a config with placeholder ids, for `signalpipe preview`.
func Example() *Config {
	return &Config{MeasurementID: "G-EXAMPLE123", APISecretEnv: "GA4_API_SECRET"}
}

// SetName implements destination.Config.
func (c *Config) SetName(name string) { c.Name = name }

// Open implements destination.Config: the API secret comes from the
// variable api_secret_env names.
func (c *Config) Open(getenv func(string) string, hc *http.Client) (destination.Destination, error) {
	return New(*c, getenv(c.APISecretEnv), hc)
}

// Preview implements destination.Previewer: the first request of the batch
// (one per user), the secret shown as its variable.
func (c *Client) Preview(batch []destination.Prepared) (destination.Request, error) {
	var body []byte
	if gs := groups(batch, c.cfg.ValidationServer); len(gs) > 0 {
		body = gs[0].body
	}
	return destination.Request{
		Method: http.MethodPost,
		URL:    c.base + "&api_secret=[$" + c.cfg.APISecretEnv + "]",
		Header: []string{"Content-Type: application/json"},
		Body:   body,
	}, nil
}

var (
	_ destination.Config    = (*Config)(nil)
	_ destination.Previewer = (*Client)(nil)
)
