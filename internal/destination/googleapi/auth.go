// Package googleapi is what Google's destinations (google: the Data Manager
// API, google_ads: the Google Ads API, and ga4 for the identity) share: OAuth 2.0 credentials (a
// service account key or a refresh token) exchanged for access tokens at a
// configurable token endpoint, the google.rpc.Status error envelope every
// Google REST API answers with, an event's user data normalized by Google's
// rules (Identity), the one click id Google accepts (ClickID) and the
// conversion actions of an account (ConversionActions). Each platform's
// payload stays in its own package.
//
// Tokens are fetched with golang.org/x/oauth2 and cached until shortly
// before they expire (oauth2.ReuseTokenSource), so a destination makes one
// token request per hour, not one per batch. The token endpoint is a config
// key so the sandbox can emulate it; in production it is Google's.
package googleapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// DefaultTokenURL is Google's OAuth 2.0 token endpoint.
const DefaultTokenURL = "https://oauth2.googleapis.com/token"

// Credentials says where a destination's OAuth 2.0 credentials come from:
// either a service account key file, or a client id, client secret and
// refresh token read from the environment variables named here. Secrets are
// never in the config file itself.
type Credentials struct {
	// ServiceAccountKeyFile is the path of a service account's JSON key.
	ServiceAccountKeyFile string `yaml:"service_account_key_file"`
	// ClientIDEnv, ClientSecretEnv and RefreshTokenEnv name the environment
	// variables of an installed-app or web OAuth client's refresh token.
	ClientIDEnv     string `yaml:"client_id_env"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	RefreshTokenEnv string `yaml:"refresh_token_env"`
	// TokenURL is the OAuth 2.0 token endpoint (default Google's); the
	// sandbox's in tests and demos. It replaces the key file's token_uri.
	TokenURL string `yaml:"token_url"`
}

// ApplyDefaults fills the token endpoint.
func (c *Credentials) ApplyDefaults() {
	if c.TokenURL == "" {
		c.TokenURL = DefaultTokenURL
	}
}

// Validate checks the fields without I/O; errors name the keys.
func (c Credentials) Validate() []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	envs := []struct{ key, v string }{
		{"client_id_env", c.ClientIDEnv}, {"client_secret_env", c.ClientSecretEnv}, {"refresh_token_env", c.RefreshTokenEnv},
	}
	set := 0
	for _, e := range envs {
		if e.v == "" {
			continue
		}
		set++
		if !destination.ValidEnvName(e.v) {
			add(e.key, "%q is not an environment variable name (put the secret in the environment, not in the file)", e.v)
		}
	}
	switch {
	case c.ServiceAccountKeyFile != "" && set > 0:
		add("service_account_key_file", "set either service_account_key_file or client_id_env/client_secret_env/refresh_token_env, not both")
	case c.ServiceAccountKeyFile == "" && set == 0:
		add("service_account_key_file", "required: a service account key file, or client_id_env, client_secret_env and refresh_token_env")
	case c.ServiceAccountKeyFile == "" && set < len(envs):
		for _, e := range envs {
			if e.v == "" {
				add(e.key, "required with the other refresh-token variables")
			}
		}
	}
	if u, err := url.Parse(c.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("token_url", "must be an http(s) URL, not %q", c.TokenURL)
	}
	return errs
}

// Source describes where the credentials come from, for previews: never a
// secret, only the file or variable names.
func (c Credentials) Source() string {
	if c.ServiceAccountKeyFile != "" {
		return "service account " + c.ServiceAccountKeyFile
	}
	return "refresh token $" + c.RefreshTokenEnv
}

// TokenSource returns a caching token source for scope. It reads the key
// file or the environment now (Open time), and fetches tokens with hc, so
// token requests share the destination's transport and timeout.
func (c Credentials) TokenSource(getenv func(string) string, hc *http.Client, scope string) (oauth2.TokenSource, error) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	if c.ServiceAccountKeyFile != "" {
		key, err := os.ReadFile(c.ServiceAccountKeyFile)
		if err != nil {
			return nil, fmt.Errorf("service_account_key_file: reading the key: %w", err)
		}
		jc, err := google.JWTConfigFromJSON(key, scope)
		if err != nil {
			// The parser's messages never quote the private key.
			return nil, fmt.Errorf("service_account_key_file: %w", err)
		}
		jc.TokenURL = c.TokenURL
		return oauth2.ReuseTokenSource(nil, jc.TokenSource(ctx)), nil
	}
	id, secret, refresh := getenv(c.ClientIDEnv), getenv(c.ClientSecretEnv), getenv(c.RefreshTokenEnv)
	for _, v := range []struct{ key, name, val string }{
		{"client_id_env", c.ClientIDEnv, id}, {"client_secret_env", c.ClientSecretEnv, secret}, {"refresh_token_env", c.RefreshTokenEnv, refresh},
	} {
		if v.val == "" {
			return nil, fmt.Errorf("%s: environment variable %s is empty", v.key, v.name)
		}
	}
	oc := &oauth2.Config{
		ClientID: id, ClientSecret: secret, Scopes: []string{scope},
		Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	return oauth2.ReuseTokenSource(nil, oc.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh})), nil
}

// TokenError classifies a failed token exchange: the token endpoint refusing
// the credentials (4xx, e.g. invalid_grant) needs a person and is a
// credential error; its 5xx, 429 and network failures are retryable. The
// detail keeps the OAuth error code and description, which never carry the
// secrets; secrets are scrubbed anyway.
func TokenError(err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		detail := "token endpoint answered HTTP " + fmt.Sprint(status)
		if re.ErrorCode != "" {
			detail += ": " + re.ErrorCode
			if re.ErrorDescription != "" {
				detail += " (" + destination.PlatformMessage(re.ErrorDescription) + ")"
			}
		}
		detail = Redact(detail, secrets...)
		if status == http.StatusTooManyRequests || status >= 500 {
			return &destination.RetryableError{Reason: "auth_unavailable", Detail: detail}
		}
		return &destination.PermanentError{Reason: "auth_error", Detail: detail + ": check the OAuth credentials", Credential: true}
	}
	return &destination.RetryableError{Reason: "auth_unavailable", Detail: "fetching an access token: " + destination.RedactError(err, secrets...)}
}

// Redact replaces every secret (and its URL-escaped form) in s.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
		s = strings.ReplaceAll(s, url.QueryEscape(sec), "[REDACTED]")
	}
	return s
}

// Token returns a token from ts, or gives up when ctx ends first. The
// token source cannot take a per-call context, so a slow token endpoint
// would otherwise hold a Send past its deadline; the abandoned fetch
// finishes in the background and its token is cached for the next Send.
func Token(ctx context.Context, ts oauth2.TokenSource, secrets ...string) (*oauth2.Token, error) {
	type answer struct {
		tok *oauth2.Token
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		tok, err := ts.Token()
		ch <- answer{tok, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, TokenError(a.err, secrets...)
		}
		return a.tok, nil
	case <-ctx.Done():
		return nil, &destination.RetryableError{Reason: "canceled", Detail: "fetching an access token: " + ctx.Err().Error()}
	}
}
