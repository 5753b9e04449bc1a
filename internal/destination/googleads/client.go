package googleads

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"golang.org/x/oauth2"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Client uploads to one Google Ads customer.
type Client struct {
	cfg      Config
	tokens   oauth2.TokenSource
	devToken string
	url      string
	http     *http.Client
	once     sync.Once
}

// New returns a client for cfg. devToken may be empty (Google sunset it).
func New(cfg Config, tokens oauth2.TokenSource, devToken string, httpClient *http.Client) (*Client, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tokens == nil {
		return nil, errors.New("google_ads: no token source")
	}
	if httpClient == nil {
		httpClient = destination.NewHTTPClient(cfg.Timeout, cfg.Concurrency)
	}
	u := cfg.Endpoint + "/" + cfg.APIVersion + "/customers/" + cfg.CustomerID + ":" + cfg.method()
	return &Client{cfg: cfg, tokens: tokens, devToken: devToken, url: u, http: httpClient}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination: results are per row
// (partial failure), so batches are not all or nothing.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) { return c.cfg.Prepare(ev) }

// Send implements destination.Destination: one upload with partial failure,
// one result per row.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, &destination.RetryableError{Reason: "canceled", Detail: err.Error()}
	}
	tok, err := googleapi.Token(ctx, c.tokens, c.devToken)
	if err != nil {
		return nil, err
	}
	h := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	if c.devToken != "" {
		h.Set("developer-token", c.devToken)
	}
	if c.cfg.LoginCustomerID != "" {
		h.Set("login-customer-id", c.cfg.LoginCustomerID)
	}
	a, err := destination.PostJSON(ctx, c.http, c.url, h, c.cfg.Body(batch), tok.AccessToken, c.devToken)
	if err != nil {
		return nil, err
	}
	if a.Status < 200 || a.Status >= 300 {
		return nil, classify(a.Status, a.Header, a.Body)
	}
	res, err := results(c.cfg.version(), len(batch), a.Body)
	if err != nil {
		return nil, err
	}
	ref := a.Header.Get("Request-Id")
	for i := range res {
		res[i].PlatformRef = ref
	}
	return res, nil
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(c.http.CloseIdleConnections)
	return nil
}

var _ destination.Destination = (*Client)(nil)
