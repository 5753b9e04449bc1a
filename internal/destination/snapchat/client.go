package snapchat

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Client sends to one Snap Pixel.
type Client struct {
	cfg   Config
	token string
	url   string
	http  *http.Client
	once  sync.Once
}

// New returns a client for cfg. The token comes from the environment by the
// caller (never from the config file). httpClient may be nil.
func New(cfg Config, token string, httpClient *http.Client) (*Client, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("access_token_env: environment variable %s is empty", cfg.AccessTokenEnv)
	}
	if httpClient == nil {
		httpClient = destination.NewHTTPClient(cfg.Timeout, cfg.Concurrency)
	}
	u := cfg.Endpoint + "/v3/" + url.PathEscape(cfg.PixelID) + "/events"
	if cfg.ValidateOnly {
		u += "/validate"
	}
	return &Client{cfg: cfg, token: token, url: u, http: httpClient}, nil
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
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.token)
	a, err := destination.PostJSON(ctx, c.http, c.url, h, Body(batch), c.token)
	if err != nil {
		return nil, err
	}
	ref, err := classify(a.Status, a.Header, a.Body)
	if err != nil {
		return nil, err
	}
	res := make([]destination.Result, len(batch))
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered, PlatformRef: ref}
	}
	return res, nil
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(c.http.CloseIdleConnections)
	return nil
}
