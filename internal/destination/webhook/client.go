package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// maxResponseBytes bounds what we read of an answer; only its first
// maxDetailBytes can matter, the rest is read so the connection is reused.
const maxResponseBytes = 64 << 10

// userAgent identifies signalpipe to receivers.
const userAgent = "signalpipe-webhook/1"

// Client sends to one webhook URL.
type Client struct {
	cfg    Config
	secret []byte
	http   *http.Client
	// now is the clock that stamps X-Signalpipe-Timestamp.
	now  func() time.Time
	once sync.Once
}

// New returns a client for cfg. The secret comes from the environment
// variable cfg.SecretEnv, read by the caller (never from the config file).
// httpClient may be nil; the client uses a copy of it that never follows
// redirects.
func New(cfg Config, secret string, httpClient *http.Client) (*Client, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, fmt.Errorf("secret_env: environment variable %s is empty", cfg.SecretEnv)
	}
	var hc http.Client
	if httpClient != nil {
		hc = *httpClient
	} else {
		hc = http.Client{Transport: destination.NewTransport(MaxConcurrency)}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{cfg: cfg, secret: []byte(secret), http: &hc, now: time.Now}, nil
}

// Sign returns the X-Signalpipe-Signature value for body sent at timestamp
// (Unix seconds): "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
// Signing the timestamp with the body lets a receiver refuse replays.
func Sign(secret string, timestamp int64, body []byte) string {
	return sign([]byte(secret), timestamp, body)
}

func sign(secret []byte, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	var ts [20]byte
	m.Write(strconv.AppendInt(ts[:0], timestamp, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// batchID is the first 16 hex digits of the body's SHA-256: the same batch
// resent has the same id.
func batchID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:8])
}

// Name implements destination.Destination.
func (c *Client) Name() string { return c.cfg.Name }

// Limits implements destination.Destination. Batches are not all or
// nothing: the receiver accepts or refuses a request as a whole, and an
// event cannot make it refuse (the payload has no required identifier).
func (c *Client) Limits() destination.Limits {
	return destination.Limits{MaxBatch: c.cfg.BatchSize, MaxEventAge: c.cfg.MaxAge, AllOrNothing: false}
}

// Prepare implements destination.Destination.
func (c *Client) Prepare(ev *event.Event) (destination.Prepared, error) {
	return c.cfg.Prepare(ev)
}

// Send implements destination.Destination: one signed POST for the whole
// batch, whose events all share the answer.
func (c *Client) Send(ctx context.Context, batch []destination.Prepared) ([]destination.Result, error) {
	body := c.cfg.Body(batch)
	id := batchID(body)
	ts := c.now().Unix()

	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &destination.PermanentError{Reason: "bad_request", Detail: c.redact(err)}
	}
	h := req.Header
	for k, v := range c.cfg.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, sign(c.secret, ts, body))
	h.Set(HeaderBatchID, id)

	resp, err := c.http.Do(req)
	if err != nil {
		reason := "network_error"
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			reason = "timeout"
		}
		return nil, &destination.RetryableError{Reason: reason, Detail: c.redact(err)}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &destination.RetryableError{Reason: "network_error", Detail: "reading response: " + c.redact(err)}
	}
	if err := classify(resp.StatusCode, resp.Header, rb); err != nil {
		if pe, ok := destination.AsPermanent(err); ok {
			pe.PlatformRef = id
		}
		return nil, err
	}
	res := make([]destination.Result, len(batch))
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered, PlatformRef: id}
	}
	return res, nil
}

// Close implements destination.Destination.
func (c *Client) Close() error {
	c.once.Do(c.http.CloseIdleConnections)
	return nil
}

// redact renders err with the URL's user info and query replaced, since
// customers put tokens there; *url.Error carries the whole URL.
func (c *Client) redact(err error) string {
	s := err.Error()
	if ue, ok := errors.AsType[*url.Error](err); ok {
		s = ue.Op + " " + redactURL(ue.URL) + ": " + ue.Err.Error()
	}
	if u, perr := url.Parse(c.cfg.URL); perr == nil {
		// Very short values would redact unrelated text; the URL form above
		// already covers them.
		if u.User != nil && len(u.User.String()) >= 4 {
			s = strings.ReplaceAll(s, u.User.String(), "REDACTED")
		}
		if len(u.RawQuery) >= 4 {
			s = strings.ReplaceAll(s, u.RawQuery, "REDACTED")
		}
	}
	return s
}

// redactURL returns raw with its user info and query replaced by REDACTED.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// An unparsable URL may hold anything; show only its scheme-ish start.
		if i := strings.IndexAny(raw, "@?"); i >= 0 {
			return raw[:i] + "…REDACTED"
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

var _ destination.Destination = (*Client)(nil)
