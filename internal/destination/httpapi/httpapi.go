// Package httpapi is what the platform clients that make one JSON POST per
// batch share: the connection (URL, token, HTTP client, per-request
// timeout, idempotent Close) and the checks of the settings every such
// platform has. Classifying the answer stays in each platform's errors.go.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// Conn posts batches to one platform URL with one token.
type Conn struct {
	url     string
	token   string
	timeout time.Duration
	http    *http.Client
	once    sync.Once
}

// NewConn returns a Conn. The token is read by the caller from the variable
// tokenEnv names; an empty one is an error naming that variable. hc nil
// means a client of the destination's own, sized to concurrency.
func NewConn(rawURL, tokenEnv, token string, timeout time.Duration, concurrency int, hc *http.Client) (*Conn, error) {
	if token == "" {
		return nil, fmt.Errorf("access_token_env: environment variable %s is empty", tokenEnv)
	}
	if hc == nil {
		hc = destination.NewHTTPClient(timeout, concurrency)
	}
	return &Conn{url: rawURL, token: token, timeout: timeout, http: hc}, nil
}

// URL is where batches go.
func (c *Conn) URL() string { return c.url }

// Token is the secret, for platforms that send it in a header.
func (c *Conn) Token() string { return c.token }

// Post sends body with header within the configured timeout; transport
// failures come back as *destination.RetryableError with the token
// redacted (destination.PostJSON).
func (c *Conn) Post(ctx context.Context, header http.Header, body []byte) (destination.Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return destination.PostJSON(ctx, c.http, c.url, header, body, c.token)
}

// Preview is the request Post would make with body, for `signalpipe
// preview`: authHeader shows where the token comes from ("Authorization:
// Bearer [$VAR]"), never the token.
func (c *Conn) Preview(authHeader string, body []byte) destination.Request {
	return destination.Request{
		Method: http.MethodPost,
		URL:    c.url,
		Header: []string{authHeader, "Content-Type: application/json"},
		Body:   body,
	}
}

// Close releases idle connections; it is idempotent.
func (c *Conn) Close() error {
	c.once.Do(c.http.CloseIdleConnections)
	return nil
}

var regionRe = regexp.MustCompile(`^[A-Z]{2}$`)

// Check returns the problems of the settings every such platform has, keyed
// as in the config block: access_token_env (a variable name, never the
// token), endpoint (an http(s) URL) and default_phone_region (empty or an
// upper-case ISO alpha-2 code).
func Check(tokenEnv, endpoint, region string) error {
	var errs []error
	switch {
	case tokenEnv == "":
		errs = append(errs, errors.New("access_token_env: required (the name of the environment variable that holds the token)"))
	case !destination.ValidEnvName(tokenEnv):
		errs = append(errs, fmt.Errorf("access_token_env: %q is not an environment variable name (put the token in the environment, not in the file)", tokenEnv))
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("endpoint: must be an http(s) URL, not %q", endpoint))
	}
	if region != "" && !regionRe.MatchString(region) {
		errs = append(errs, fmt.Errorf("default_phone_region: must be an upper-case ISO-3166 alpha-2 code such as US, not %q", region))
	}
	return errors.Join(errs...)
}
