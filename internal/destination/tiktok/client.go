package tiktok

import (
	"context"
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/httpapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// HeaderAccessToken carries the token, as the Business API requires (no
// "Bearer" prefix).
const HeaderAccessToken = "Access-Token"

// Client sends to one TikTok event source.
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
	u := cfg.Endpoint + "/open_api/" + cfg.APIVersion + "/event/track/"
	conn, err := httpapi.NewConn(u, cfg.AccessTokenEnv, token, cfg.Timeout, cfg.Concurrency, httpClient)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, conn: conn}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination. TikTok reports failed events
// of a batch (code 20001), so a batch is not all or nothing.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) { return c.cfg.Prepare(ev) }

// Send implements destination.Destination: one POST for the whole batch.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	h := http.Header{}
	h.Set(HeaderAccessToken, c.conn.Token())
	a, err := c.conn.Post(ctx, h, c.cfg.Body(batch))
	if err != nil {
		return nil, err
	}
	return classify(a.Status, a.Header, a.Body, len(batch))
}

// Close implements destination.Destination.
func (c *Client) Close() error { return c.conn.Close() }
