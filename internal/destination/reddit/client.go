package reddit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Client sends to one Reddit pixel.
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
	u := strings.TrimRight(cfg.Endpoint, "/") + "/api/v3/pixels/" + url.PathEscape(cfg.PixelID) + "/conversion_events"
	return &Client{cfg: cfg, token: token, url: u, http: httpClient}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination. A refusal that names no event
// fails the whole request, so deliver may split a batch (AllOrNothing).
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge, AllOrNothing: true}
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
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&ce)}, nil
}

// Body renders the request body for a batch, exactly as Send posts it.
func (c Config) Body(batch []destination.Prepared) []byte {
	b := make([]byte, 0, destination.PayloadBytes(batch)+32+len(c.TestID))
	b = append(b, `{"data":{`...)
	if c.TestID != "" {
		id, _ := json.Marshal(c.TestID)
		b = append(b, `"test_id":`...)
		b = append(b, id...)
		b = append(b, ',')
	}
	b = append(b, `"events":`...)
	b = destination.AppendPayloads(b, batch)
	return append(b, "}}"...)
}

// Send implements destination.Destination: one POST for the whole batch.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	a, err := destination.PostJSON(ctx, c.http, c.url, http.Header{"Authorization": {"Bearer " + c.token}}, c.cfg.Body(batch), c.token)
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
