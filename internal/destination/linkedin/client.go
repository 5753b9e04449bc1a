package linkedin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// RestliProtocolVersion is the X-Restli-Protocol-Version LinkedIn requires.
const RestliProtocolVersion = "2.0.0"

// Client sends to one LinkedIn ad account's conversion rules.
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
		httpClient = &http.Client{Timeout: cfg.Timeout, Transport: destination.NewTransport(cfg.Concurrency)}
	}
	return &Client{cfg: cfg, token: token, url: strings.TrimRight(cfg.Endpoint, "/") + "/rest/conversionEvents", http: httpClient}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination: LinkedIn answers per element,
// so a bad event never fails its batch.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) { return c.cfg.Prepare(ev) }

// Prepare maps and encodes one event; the preview command uses it without a
// client.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	ce, _, err := c.Map(ev)
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := encode(ce)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&ce.User)}, nil
}

// Body renders the request body for a batch, exactly as Send posts it.
func Body(batch []destination.Prepared) []byte {
	b := make([]byte, 0, destination.PayloadBytes(batch)+16)
	b = append(b, `{"elements":`...)
	b = destination.AppendPayloads(b, batch)
	return append(b, '}')
}

// headers are the request headers besides Authorization, in preview order.
func (c *Client) headers() [][2]string {
	return [][2]string{
		{"Content-Type", "application/json"},
		{"LinkedIn-Version", c.cfg.APIVersion},
		{"X-RestLi-Method", "BATCH_CREATE"},
		{"X-Restli-Protocol-Version", RestliProtocolVersion},
	}
}

// Send implements destination.Destination: one BATCH_CREATE for the whole
// batch, one result per event from LinkedIn's per-element statuses.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	h := http.Header{"Authorization": {"Bearer " + c.token}}
	for _, kv := range c.headers() {
		h.Set(kv[0], kv[1])
	}
	a, err := destination.PostJSON(ctx, c.http, c.url, h, Body(batch), c.token)
	if err != nil {
		return nil, err
	}
	return classify(a.Status, a.Header, a.Body, len(batch))
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(func() { c.http.CloseIdleConnections() })
	return nil
}

var _ destination.Destination = (*Client)(nil)
