package microsoft

import (
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Example is a UET config with placeholder ids, for `signalpipe preview`
// without a config file.
func Example() *Config {
	return &Config{API: APIUET, TagID: "12345678", AccessTokenEnv: "MICROSOFT_UET_TOKEN", DefaultPhoneRegion: "US"}
}

// SetName implements destination.Config.
func (c *Config) SetName(name string) { c.Name = name }

// Open implements destination.Config: the tokens come from the environment
// variables access_token_env and (offline) developer_token_env name.
func (c *Config) Open(getenv func(string) string, hc *http.Client) (destination.Destination, error) {
	var dev string
	if c.DeveloperTokenEnv != "" {
		dev = getenv(c.DeveloperTokenEnv)
	}
	return New(*c, getenv(c.AccessTokenEnv), dev, hc)
}

// Preview implements destination.Previewer; secrets are shown as the
// variables they come from.
func (c *Client) Preview(batch []destination.Prepared) (destination.Request, error) {
	h := []string{"Authorization: Bearer [$" + c.cfg.AccessTokenEnv + "]"}
	for _, kv := range c.headers() {
		h = append(h, kv[0]+": "+kv[1])
	}
	if c.cfg.API == APIOffline {
		h = append(h, "DeveloperToken: [$"+c.cfg.DeveloperTokenEnv+"]")
	}
	return destination.Request{Method: http.MethodPost, URL: c.url, Header: h, Body: c.cfg.Body(batch)}, nil
}

var (
	_ destination.Config    = (*Config)(nil)
	_ destination.Previewer = (*Client)(nil)
)
