package meta

import (
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Example is a config with placeholder ids, for `signalpipe preview` without
// a config file.
func Example() *Config {
	return &Config{PixelID: "PIXEL_ID", AccessTokenEnv: "META_ACCESS_TOKEN"}
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
	return destination.Request{
		Method: http.MethodPost,
		URL:    c.url + "?access_token=[$" + c.cfg.AccessTokenEnv + "]",
		Header: []string{"Content-Type: application/json"},
		Body:   c.cfg.Body(batch),
	}, nil
}

var (
	_ destination.Config    = (*Config)(nil)
	_ destination.Previewer = (*Client)(nil)
)
