package meta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// maxResponseBytes bounds what we read of an answer.
const maxResponseBytes = 1 << 20

// Client sends to one Meta pixel.
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
		httpClient = newHTTPClient(cfg.Timeout)
	}
	u := fmt.Sprintf("%s/%s/%s/events", cfg.Endpoint, cfg.APIVersion, url.PathEscape(cfg.PixelID))
	return &Client{cfg: cfg, token: token, url: u, http: httpClient}, nil
}

// newHTTPClient retries only transport failures that happened before a
// request reached Meta (refused or reset connections), a few times and
// quickly; every HTTP answer goes to classify, and the deliver stage decides
// about retrying those.
func newHTTPClient(timeout time.Duration) *http.Client {
	rc := retryablehttp.NewClient()
	rc.RetryMax = 2
	rc.RetryWaitMin = 50 * time.Millisecond
	rc.RetryWaitMax = 250 * time.Millisecond
	rc.Logger = nil
	rc.HTTPClient.Timeout = timeout
	rc.HTTPClient.Transport = destination.NewTransport(16)
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil || resp != nil || err == nil {
			return false, nil
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return true, nil
		}
		return false, nil
	}
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return rc.StandardClient()
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination.
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge, AllOrNothing: true}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) {
	return c.cfg.Prepare(ev)
}

// Prepare maps and encodes one event; the preview command uses it without a
// client.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	se, _, err := c.Map(ev)
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := encode(se)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&se.UserData)}, nil
}

// Body renders the request body for a batch, exactly as Send posts it.
func (c Config) Body(batch []destination.Prepared) []byte {
	b := make([]byte, 0, destination.PayloadBytes(batch)+64+len(c.TestEventCode))
	b = append(b, `{"data":`...)
	b = destination.AppendPayloads(b, batch)
	if c.TestEventCode != "" {
		b = append(b, `,"test_event_code":`...)
		b = append(b, quote(c.TestEventCode)...)
	}
	return append(b, '}')
}

// Send implements destination.Destination: one POST for the whole batch.
// CAPI is all-or-nothing, so every event shares the request's fate.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	body := c.cfg.Body(batch)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"?access_token="+url.QueryEscape(c.token), bytes.NewReader(body))
	if err != nil {
		return nil, &destination.PermanentError{Reason: "bad_request", Detail: redact(err, c.token)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error carries the URL, and with it the token: never let it
		// reach a log or an outcome.
		reason := "network_error"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			reason = "timeout"
		}
		return nil, &destination.RetryableError{Reason: reason, Detail: redact(err, c.token)}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &destination.RetryableError{Reason: "network_error", Detail: "reading response: " + redact(err, c.token)}
	}
	trace, err := classify(resp.StatusCode, resp.Header, rb)
	if err != nil {
		return nil, err
	}
	res := make([]destination.Result, len(batch))
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered, PlatformRef: trace}
	}
	return res, nil
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(func() { c.http.CloseIdleConnections() })
	return nil
}

// redact renders err without its URL, so the access token never leaks.
func redact(err error, token string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if token != "" {
		s = strings.ReplaceAll(s, token, "[REDACTED]")
		s = strings.ReplaceAll(s, url.QueryEscape(token), "[REDACTED]")
	}
	return s
}

var _ destination.Destination = (*Client)(nil)
