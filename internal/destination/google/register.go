package google

import (
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Example is a config with placeholder ids, for `signalpipe preview` without
// a config file.
func Example() *Config {
	c := &Config{CustomerID: "1234567890"}
	c.ConversionActionID = "987654321"
	c.ClientIDEnv, c.ClientSecretEnv, c.RefreshTokenEnv = "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_REFRESH_TOKEN"
	return c
}

// SetName implements destination.Config.
func (c *Config) SetName(name string) { c.Name = name }

// Open implements destination.Config: it reads the key file or the
// refresh-token variables and builds the token source; tokens are fetched
// on the first Send.
func (c *Config) Open(getenv func(string) string, hc *http.Client) (destination.Destination, error) {
	cfg := *c
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = destination.NewHTTPClient(cfg.Timeout, cfg.Concurrency)
	}
	ts, err := cfg.TokenSource(getenv, hc, Scope)
	if err != nil {
		return nil, err
	}
	return New(cfg, ts, hc)
}

// Preview implements destination.Previewer; the token is shown as where it
// comes from.
func (c *Client) Preview(batch []destination.Prepared) (destination.Request, error) {
	return destination.Request{
		Method: http.MethodPost,
		URL:    c.url,
		Header: []string{"Authorization: Bearer [OAuth access token from " + c.cfg.Source() + "]", "Content-Type: application/json"},
		Body:   c.cfg.Body(batch),
	}, nil
}

var (
	_ destination.Config    = (*Config)(nil)
	_ destination.Previewer = (*Client)(nil)
)
