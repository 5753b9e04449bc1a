package snapchat

import (
	"context"
	"net/http"
	"net/url"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/httpapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Client sends to one Snap Pixel.
type Client struct {
	cfg  Config
	conn *httpapi.Conn
}

// New returns a client for cfg. The token comes from the environment by the
// caller (never from the config file). httpClient may be nil.
func New(cfg Config, token string, httpClient *http.Client) (*Client, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u := cfg.Endpoint + "/v3/" + url.PathEscape(cfg.PixelID) + "/events"
	if cfg.ValidateOnly {
		u += "/validate"
	}
	conn, err := httpapi.NewConn(u, cfg.AccessTokenEnv, token, cfg.Timeout, cfg.Concurrency, httpClient)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, conn: conn}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination. Snap refuses a request as a
// whole, so deliver splits a rejected batch.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge, AllOrNothing: true}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) { return c.cfg.Prepare(ev) }

// Send implements destination.Destination: one POST for the whole batch,
// whose events all share the answer.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.conn.Token())
	a, err := c.conn.Post(ctx, h, destination.DataBody(batch))
	if err != nil {
		return nil, err
	}
	return results(a.Status, a.Header, a.Body, len(batch))
}

// Close implements destination.Destination.
func (c *Client) Close() error { return c.conn.Close() }
