package googleads

import (
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Example is a config with placeholder ids, for `signalpipe preview`.
func Example() *Config {
	c := &Config{CustomerID: "1234567890", DeveloperTokenEnv: "GOOGLE_ADS_DEVELOPER_TOKEN"}
	c.ConversionActionID = "987654321"
	c.ClientIDEnv, c.ClientSecretEnv, c.RefreshTokenEnv = "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_REFRESH_TOKEN"
	return c
}

// SetName implements destination.Config.
func (c *Config) SetName(name string) { c.Name = name }

// Open implements destination.Config: the token source from the key file or
// the refresh-token variables, the developer token from developer_token_env.
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
	var dev string
	if cfg.DeveloperTokenEnv != "" {
		dev = getenv(cfg.DeveloperTokenEnv)
	}
	return New(cfg, ts, dev, hc)
}

// Preview implements destination.Previewer; secrets are shown as where they
// come from.
func (c *Client) Preview(batch []destination.Prepared) (destination.Request, error) {
	h := []string{"Authorization: Bearer [OAuth access token from " + c.cfg.Source() + "]", "Content-Type: application/json"}
	if c.cfg.DeveloperTokenEnv != "" {
		h = append(h, "developer-token: [$"+c.cfg.DeveloperTokenEnv+"]")
	}
	if c.cfg.LoginCustomerID != "" {
		h = append(h, "login-customer-id: "+c.cfg.LoginCustomerID)
	}
	return destination.Request{Method: http.MethodPost, URL: c.url, Header: h, Body: c.cfg.Body(batch)}, nil
}

var (
	_ destination.Config    = (*Config)(nil)
	_ destination.Previewer = (*Client)(nil)
)
