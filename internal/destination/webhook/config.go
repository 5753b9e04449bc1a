// Package webhook is the generic webhook destination: it POSTs batches of
// events as JSON to a customer's own URL, signed with HMAC-SHA256, so that
// customers can feed their own systems with the same deduplicated,
// consent-checked conversions the ad platforms get.
//
// # Request
//
// One request per batch:
//
//	POST <url>
//	Content-Type: application/json
//	X-Signalpipe-Timestamp: 1795168800            (Unix seconds when sent)
//	X-Signalpipe-Signature: sha256=<hex>          (see Sign)
//	X-Signalpipe-Batch-Id: 3f2a9c0d1e7b6a54       (first 16 hex of sha256(body))
//	<static headers from the config>
//
//	{"events":[<event>,...]}
//
// The signature is hex(HMAC-SHA256(secret, timestamp + "." + body)) over the
// exact body bytes; a receiver recomputes it, compares in constant time and
// refuses timestamps far from its clock (the sandbox allows five minutes), which
// stops replays. The batch id depends on the body only, so a batch that is
// resent after a failure carries the same id (and a fresh timestamp and
// signature): receivers can use it, or each event_id, to drop duplicates.
// Redirects are not followed: a 3xx is an error, because following one could
// turn the POST into a GET that "succeeds" without delivering anything.
//
// # Event
//
//	{
//	  "event_id":   "ord-2002",
//	  "event_name": "purchase",                   canonical name
//	  "event_time": "2026-11-20T09:00:00.25Z",    RFC 3339, UTC, fraction only when non-zero
//	  "source":     "web",                        web, app or crm
//	  "user": {                                   each key omitted when absent or not normalizable
//	    "email_sha256", "phone_sha256", "first_name_sha256", "last_name_sha256",
//	    "external_id_sha256", "city_sha256", "zip_sha256", "country_sha256"
//	  },
//	  "click_ids":  {"gclid": "...", "fbclid": "...", ...},   as captured, omitted when none
//	  "cookies":    {"fbp": "...", "fbc": "...", "ttp": "...", "scid": "..."}, omitted when none
//	  "properties": {"value": 59.9, "currency": "EUR", "order_id": "...", "contents": [...]},
//	  "consent":    {"ad_user_data": "granted", ...}           omitted when the event has none
//	  "customer":   {"new_customer": false, "lifetime_value": 1240.5, "rfm": "R4F3M5"}
//	                                              the process stage's value signals, omitted when none
//	}
//
// Every user value is normalized with Meta's rules (package pii: e-mail
// trimmed and lowercased, phone as digits with country code, names and city
// lowercase letters only, zip lowercase without spaces and before '-',
// country as ISO alpha-2 lowercase, external id as given) and sent as the
// lowercase hex SHA-256, so a customer who hashes its own data the way Meta
// documents gets equal digests. A value that is already a SHA-256 digest is
// passed through, never hashed twice. external_id_sha256 is the user's
// external_id, or its user_id when there is none. Phone numbers without a
// country code use the address country; with neither, the phone is dropped.
//
// Raw personal data never leaves: no e-mail, phone, name, street, date of
// birth, gender, IP address or user agent is sent unhashed, and the page URL
// and referrer are not sent at all because query strings often carry e-mail
// addresses. An event with no identifier at all is still sent; the receiver
// decides what to do with it.
package webhook

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Config is one webhook endpoint to send to.
type Config struct {
	// Name is the destination's name in topics and reports; the caller sets
	// it from the destination's key. Default "webhook".
	Name string `yaml:"-"`
	// URL receives the POSTs; http or https.
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the HMAC secret.
	SecretEnv string `yaml:"secret_env"`
	// Delivery holds batch_size, linger, timeout, concurrency,
	// max_event_age and events (default: all but identify).
	destination.Delivery `yaml:",inline"`
	// Headers are extra static request headers, such as a routing key. They
	// are stored in the config file, so they must not hold secrets.
	Headers map[string]string `yaml:"headers"`
}

// Named defaults and limits.
const (
	DefaultName        = "webhook"
	DefaultBatchSize   = 100
	MaxBatchSize       = 1000
	DefaultLinger      = 250 * time.Millisecond
	MaxLinger          = time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 2
	MaxConcurrency     = 64
	DefaultMaxEventAge = 30 * 24 * time.Hour
)

// The request headers every batch carries.
const (
	HeaderSignature = "X-Signalpipe-Signature"
	HeaderTimestamp = "X-Signalpipe-Timestamp"
	HeaderBatchID   = "X-Signalpipe-Batch-Id"
)

// DefaultEvents are the canonical names sent when Events is empty: all but
// identify, which carries no conversion.
var DefaultEvents = []string{
	event.NamePageView, event.NameViewContent, event.NameAddToCart, event.NameCheckout,
	event.NameSignUp, event.NameLead, event.NamePurchase, event.NameQualifiedLead, event.NameClosedDeal,
}

// knownEvents are the names Events may list: the defaults and identify.
var knownEvents = append(slices.Clone(DefaultEvents), event.NameIdentify)

var (
	headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// reservedHeaders are set by Send (or by net/http) and may not be overridden.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding",
	"Host", "Connection", "User-Agent", HeaderSignature, HeaderTimestamp, HeaderBatchID}

// secretHeaders would put a credential in the config file; the signature
// authenticates the request instead.
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie"}

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	c.Fill(destination.Delivery{
		BatchSize: DefaultBatchSize, Linger: DefaultLinger, Timeout: DefaultTimeout,
		Concurrency: DefaultConcurrency, MaxEventAge: DefaultMaxEventAge, Events: DefaultEvents,
	})
}

// Validate checks the fields; keys are relative to the destination's block.
// It does no I/O.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// The URL may carry credentials: show it redacted.
		add("url", "must be an http(s) URL, not %q", redactURL(c.URL))
	}
	if c.SecretEnv == "" {
		add("secret_env", "required (the name of the environment variable that holds the signing secret)")
	} else if !destination.ValidEnvName(c.SecretEnv) {
		add("secret_env", "%q is not an environment variable name (put the secret in the environment, not in the file)", c.SecretEnv)
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	for _, e := range c.Events {
		if !slices.Contains(knownEvents, e) {
			add("events", "%q is not a canonical event name (want one of %s)", e, strings.Join(knownEvents, ", "))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		key := "headers." + name
		canon := http.CanonicalHeaderKey(name)
		switch {
		case !headerNameRe.MatchString(name):
			add(key, "is not a valid header name")
		case slices.Contains(reservedHeaders, canon):
			add(key, "is set by signalpipe and cannot be overridden")
		case slices.Contains(secretHeaders, canon):
			add(key, "would put a credential in the config file; receivers authenticate requests by the %s header", HeaderSignature)
		case strings.ContainsAny(c.Headers[name], "\r\n\x00"):
			add(key, "value must not contain line breaks or NUL")
		}
	}
	return errors.Join(errs...)
}
