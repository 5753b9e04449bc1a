package linkedin

import (
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Example is a config with placeholder ids, for `signalpipe preview` without
// a config file.
func Example() *Config {
	return &Config{
		AccessTokenEnv: "LINKEDIN_ACCESS_TOKEN",
		Conversions: map[string]string{
			event.NamePurchase: "10000001", event.NameLead: "10000002", event.NameSignUp: "10000003",
		},
	}
}

// SetName implements destination.Config.
func (c *Config) SetName(name string) { c.Name = name }

// Open implements destination.Config: the token comes from the environment
// variable access_token_env names.
func (c *Config) Open(getenv func(string) string, hc *http.Client) (destination.Destination, error) {
	return New(*c, getenv(c.AccessTokenEnv), hc)
}

// Preview implements destination.Previewer; the token is shown as the
// variable it comes from.
func (c *Client) Preview(batch []destination.Prepared) (destination.Request, error) {
	h := []string{"Authorization: Bearer [$" + c.cfg.AccessTokenEnv + "]"}
	for _, kv := range c.headers() {
		h = append(h, kv[0]+": "+kv[1])
	}
	return destination.Request{Method: http.MethodPost, URL: c.url, Header: h, Body: Body(batch)}, nil
}

var (
	_ destination.Config    = (*Config)(nil)
	_ destination.Previewer = (*Client)(nil)
)
