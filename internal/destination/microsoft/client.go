package microsoft

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Client sends to one UET tag or one ad account's offline goals.
type Client struct {
	cfg      Config
	token    string
	devToken string
	url      string
	http     *http.Client
	once     sync.Once
}

// New returns a client for cfg. The secrets come from the environment by
// the caller (never from the config file); devToken is used by api offline
// only. httpClient may be nil.
func New(cfg Config, token, devToken string, httpClient *http.Client) (*Client, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("access_token_env: environment variable %s is empty", cfg.AccessTokenEnv)
	}
	if cfg.API == APIOffline && devToken == "" {
		return nil, fmt.Errorf("developer_token_env: environment variable %s is empty", cfg.DeveloperTokenEnv)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: cfg.Timeout, Transport: destination.NewTransport(cfg.Concurrency)}
	}
	base := strings.TrimRight(cfg.Endpoint, "/")
	u := base + "/v1/" + url.PathEscape(cfg.TagID) + "/events"
	if cfg.API == APIOffline {
		u = base + "/CampaignManagement/v13/OfflineConversions/Apply"
	}
	return &Client{cfg: cfg, token: token, devToken: devToken, url: u, http: httpClient}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination: both APIs answer per event.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) { return c.cfg.Prepare(ev) }

// Body renders the request body for a batch, exactly as Send posts it.
func (c Config) Body(batch []destination.Prepared) []byte {
	b := make([]byte, 0, destination.PayloadBytes(batch)+48)
	if c.API == APIOffline {
		b = append(b, `{"OfflineConversions":`...)
		b = destination.AppendPayloads(b, batch)
		return append(b, '}')
	}
	b = append(b, `{"data":`...)
	b = destination.AppendPayloads(b, batch)
	return append(b, `,"continueOnValidationError":true}`...)
}

// headers are the request headers besides Authorization and the developer
// token, in preview order.
func (c *Client) headers() [][2]string {
	h := [][2]string{{"Content-Type", "application/json"}}
	if c.cfg.API == APIOffline {
		h = append(h, [2]string{"CustomerAccountId", c.cfg.AccountID}, [2]string{"CustomerId", c.cfg.CustomerID})
	}
	return h
}

// Send implements destination.Destination: one POST for the whole batch,
// one result per event.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	h := http.Header{"Authorization": {"Bearer " + c.token}}
	for _, kv := range c.headers() {
		h.Set(kv[0], kv[1])
	}
	if c.cfg.API == APIOffline {
		h.Set("DeveloperToken", c.devToken)
	}
	a, err := destination.PostJSON(ctx, c.http, c.url, h, c.cfg.Body(batch), c.token, c.devToken)
	if err != nil {
		return nil, err
	}
	return classify(c.cfg.API, a.Status, a.Header, a.Body, len(batch))
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(func() { c.http.CloseIdleConnections() })
	return nil
}

var _ destination.Destination = (*Client)(nil)
