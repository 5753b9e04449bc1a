package ga4

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// The collection paths.
const (
	CollectPath  = "/mp/collect"
	ValidatePath = "/debug/mp/collect"
)

// Client sends to one GA4 stream.
type Client struct {
	cfg    Config
	secret string
	// base is the URL without the secret, for errors and previews.
	base string
	http *http.Client
	once sync.Once
}

// New returns a client for cfg with the stream's API secret.
func New(cfg Config, secret string, httpClient *http.Client) (*Client, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, fmt.Errorf("api_secret_env: environment variable %s is empty", cfg.APISecretEnv)
	}
	if httpClient == nil {
		httpClient = destination.NewHTTPClient(cfg.Timeout, cfg.Concurrency)
	}
	path := CollectPath
	if cfg.ValidationServer {
		path = ValidatePath
	}
	q := url.Values{}
	if cfg.app() {
		q.Set("firebase_app_id", cfg.FirebaseAppID)
	} else {
		q.Set("measurement_id", cfg.MeasurementID)
	}
	return &Client{cfg: cfg, secret: secret, base: cfg.Endpoint + path + "?" + q.Encode(), http: httpClient}, nil
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) { return c.cfg.Prepare(ev) }

// Send implements destination.Destination: one request per user of the
// batch (see the package doc), one result per event.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	res := make([]destination.Result, len(batch))
	gs := groups(batch, c.cfg.ValidationServer)
	for gi, g := range gs {
		gres, err := c.send(ctx, g)
		if err != nil {
			if gi == 0 {
				return nil, err // nothing sent: the batch shares the error
			}
			// Earlier groups went through: the rest take the error per event.
			for _, rest := range gs[gi:] {
				for _, i := range rest.index {
					res[i] = perEvent(err)
				}
			}
			return res, nil
		}
		for k, i := range g.index {
			res[i] = gres[k]
		}
	}
	return res, nil
}

// perEvent turns a request error into an event's result.
func perEvent(err error) destination.Result {
	if re, ok := destination.AsRetryable(err); ok {
		return destination.Result{Status: destination.Retry, Reason: re.Reason, Detail: re.Detail, RetryAfter: re.After}
	}
	pe, _ := destination.AsPermanent(err)
	if pe == nil {
		pe = &destination.PermanentError{Reason: "error", Detail: err.Error()}
	}
	return destination.Result{Status: destination.Rejected, Reason: pe.Reason, Detail: pe.Detail}
}

// send makes one request.
func (c *Client) send(ctx context.Context, g group) ([]destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, &destination.RetryableError{Reason: "canceled", Detail: err.Error()}
	}
	ans, err := destination.PostJSON(ctx, c.http, c.base+"&api_secret="+url.QueryEscape(c.secret), nil, g.body, c.secret)
	if err != nil {
		return nil, err
	}
	if err := classify(ans.Status, ans.Header); err != nil {
		return nil, err
	}
	if c.cfg.ValidationServer {
		return validationResults(len(g.index), ans.Body)
	}
	out := make([]destination.Result, len(g.index))
	for i := range out {
		out[i] = destination.Result{Status: destination.Delivered}
	}
	return out, nil
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(c.http.CloseIdleConnections)
	return nil
}

var _ destination.Destination = (*Client)(nil)
