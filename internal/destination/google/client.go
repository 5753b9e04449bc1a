package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// IngestPath is the events:ingest method's path below the endpoint.
const IngestPath = "/v1/events:ingest"

// Client sends to one Google Ads customer through the Data Manager API.
type Client struct {
	cfg    Config
	tokens oauth2.TokenSource
	url    string
	http   *http.Client
	once   sync.Once
}

// New returns a client for cfg that authenticates with tokens. httpClient
// nil means a client with cfg's timeout.
func New(cfg Config, tokens oauth2.TokenSource, httpClient *http.Client) (*Client, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tokens == nil {
		return nil, errors.New("google: no token source")
	}
	if httpClient == nil {
		httpClient = destination.NewHTTPClient(cfg.Timeout, cfg.Concurrency)
	}
	return &Client{cfg: cfg, tokens: tokens, url: cfg.Endpoint + IngestPath, http: httpClient}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination. Google fails the whole request
// when one event is invalid (its fast-fail model), so batches are all or
// nothing.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge, AllOrNothing: true}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) { return c.cfg.Prepare(ev) }

// Send implements destination.Destination: one events:ingest request for the
// batch, whose events share its answer.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, &destination.RetryableError{Reason: "canceled", Detail: err.Error()}
	}
	tok, err := googleapi.Token(ctx, c.tokens)
	if err != nil {
		return nil, err
	}
	ans, err := destination.PostJSON(ctx, c.http, c.url, http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, c.cfg.Body(batch), tok.AccessToken)
	if err != nil {
		return nil, err
	}
	ref, err := classify(ans.Status, ans.Header, ans.Body)
	if err != nil {
		return nil, err
	}
	res := make([]destination.Result, len(batch))
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered, PlatformRef: ref}
		if c.cfg.ValidateOnly {
			res[i].Detail = "validate_only: checked, not stored"
		}
	}
	return res, nil
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(c.http.CloseIdleConnections)
	return nil
}

// String keeps the client (and its token source) out of %v output.
func (c *Client) String() string { return fmt.Sprintf("google(%s)", c.cfg.Name) }

var _ destination.Destination = (*Client)(nil)
