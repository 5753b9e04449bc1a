// Package microsoft is the Microsoft Advertising destination. One config
// switch, api, picks the path:
//
//   - api: uet (default) — the UET Conversions API: hashed email and phone,
//     the msclkid click id and the UET tag's event names, for web events.
//   - api: offline — ApplyOfflineConversions of the Campaign Management API
//     (v13, REST): msclkid plus the offline conversion goal's name, time and
//     value, for CRM events.
//
// Each destination entry is one UET tag or one ad account; add entries for
// more.
//
// # UET Conversions API request
//
//	POST {endpoint}/v1/{tag_id}/events             endpoint default https://capi.uet.microsoft.com
//	Authorization: Bearer <CAPI token from access_token_env>   (from the UET tag's "Use Conversions API")
//
//	{"data":[{"eventType":"custom",              pageLoad for page_view
//	          "eventId":"ord-1001","eventName":"purchase","eventTime":1795168800,   Unix seconds
//	          "adStorageConsent":"G",                         G or D, from ad_user_data consent
//	          "userData":{"msclkid":"…","em":"<sha256>","ph":"<sha256>","externalId":"u-42",
//	                      "clientIpAddress":"203.0.113.7","clientUserAgent":"…"},
//	          "customData":{"value":142.52,"currency":"USD","transactionId":"ord-1001","itemIds":["sku-tee"]}}],
//	 "continueOnValidationError":true}
//
// # Offline conversions request
//
//	POST {endpoint}/CampaignManagement/v13/OfflineConversions/Apply
//	                                         endpoint default https://campaign.api.bingads.microsoft.com
//	Authorization: Bearer <OAuth token from access_token_env>
//	DeveloperToken: <from developer_token_env>
//	CustomerId: <customer_id>   CustomerAccountId: <account_id>
//
//	{"OfflineConversions":[{"MicrosoftClickId":"…","ConversionName":"Closed deal",
//	                        "ConversionTime":"2026-11-20T10:00:00Z","ConversionValue":142.52,
//	                        "ConversionCurrencyCode":"USD"}]}
//
// # Decisions on points the reference marks pilot, beta or unconfirmed
//
//   - UET CAPI is a pilot enabled per account; a 403 is treated as a
//     credential problem (the tag is not provisioned), never retried.
//   - UET email: trimmed, lowercased; phone: E.164 with '+'; both SHA-256
//     (pii.Microsoft). externalId, IP and user agent are sent as captured.
//   - UET requests always carry continueOnValidationError: true, so one bad
//     event never costs the batch; the answer's errors[] (index, field,
//     message) reject those events, and an eventsReceived count that does not
//     add up marks the rest for a retry (eventId + eventName deduplicate).
//   - UET has no test mode; use a separate tag for tests.
//   - Offline: the REST form of ApplyOfflineConversions (JSON, same fields as
//     the SOAP operation; the SOAP API's retirement is announced). Batches
//     of 1,000 [doc]; events up to 90 days old (unconfirmed; Microsoft
//     matches clicks up to 90 days back). Enhanced-conversion hashed email
//     and phone are not sent (their field names are unconfirmed).
//   - Offline test mode: sandbox: true sends to Microsoft's sandbox
//     environment, which accepts uploads but attributes nothing.
//   - Offline duplicates (same msclkid and time) are ignored by Microsoft, so
//     they come back as delivered.
package microsoft

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// The two APIs.
const (
	APIUET     = "uet"
	APIOffline = "offline"
)

// Config is one UET tag (api uet) or one ad account's offline conversion
// goals (api offline).
type Config struct {
	// Name is the destination's name in topics and reports, set from the
	// destination entry (default "microsoft").
	Name string `yaml:"-"`
	// API is uet (default) or offline.
	API string `yaml:"api"`
	// AccessTokenEnv names the environment variable holding the UET CAPI
	// token (uet) or the Microsoft identity OAuth access token (offline).
	AccessTokenEnv string `yaml:"access_token_env"`
	// Endpoint is the API base URL; the default depends on api (and
	// sandbox); the signalpipe sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// EventNames maps canonical names to the UET event name (uet; default
	// the canonical name) or to the offline conversion goal's name (offline;
	// required, and only mapped events are sent).
	EventNames map[string]string `yaml:"event_names"`
	// Delivery holds batch_size (1000), linger, timeout, concurrency,
	// max_event_age (uet 7 days, offline 90 days) and events.
	destination.Delivery `yaml:",inline"`

	// TagID is the UET tag id (uet).
	TagID string `yaml:"tag_id"`
	// DefaultPhoneRegion is used for phone numbers without a country code
	// when the event has no address country (uet).
	DefaultPhoneRegion string `yaml:"default_phone_region"`

	// CustomerID and AccountID are the manager and ad account ids (offline).
	CustomerID string `yaml:"customer_id"`
	AccountID  string `yaml:"account_id"`
	// DeveloperTokenEnv names the environment variable holding the
	// developer token (offline).
	DeveloperTokenEnv string `yaml:"developer_token_env"`
	// Sandbox sends offline conversions to Microsoft's sandbox environment
	// (test mode: accepted, never attributed).
	Sandbox bool `yaml:"sandbox"`
}

// Named defaults and limits.
const (
	DefaultName             = "microsoft"
	DefaultUETEndpoint      = "https://capi.uet.microsoft.com"
	DefaultCampaignEndpoint = "https://campaign.api.bingads.microsoft.com"
	// SandboxCampaignEndpoint is Microsoft's sandbox environment (sandbox:
	// true): uploads are accepted and never attributed.
	SandboxCampaignEndpoint = "https://campaign.api.sandbox.bingads.microsoft.com"
	// MaxBatchSize is both APIs' limit per request.
	MaxBatchSize       = 1000
	DefaultBatchSize   = MaxBatchSize
	DefaultLinger      = 250 * time.Millisecond
	MaxLinger          = time.Minute
	DefaultTimeout     = 15 * time.Second
	DefaultConcurrency = 2
	// DefaultOfflineConcurrency is lower: the Campaign Management API
	// throttles per account (CallRateExceeded), and offline conversions are
	// not urgent.
	DefaultOfflineConcurrency = 1
	MaxConcurrency            = 16
	// MaxUETEventAgeLimit and MaxOfflineEventAgeLimit are the platforms'
	// age limits (the offline one unconfirmed).
	MaxUETEventAgeLimit     = 7 * 24 * time.Hour
	MaxOfflineEventAgeLimit = 90 * 24 * time.Hour
	// maxConversionNameLength is the offline goal name's limit.
	maxConversionNameLength = 100
)

// uetEvents are the canonical names the UET path may send: all but
// identify.
var uetEvents = []string{
	event.NamePageView, event.NameViewContent, event.NameAddToCart, event.NameCheckout,
	event.NameSignUp, event.NameLead, event.NamePurchase, event.NameQualifiedLead, event.NameClosedDeal,
}

var (
	tagIDRe   = regexp.MustCompile(`^[0-9]{1,20}$`)
	accountRe = regexp.MustCompile(`^[0-9]{1,20}$`)
	regionRe  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.API == "" {
		c.API = APIUET
	}
	d := destination.Delivery{BatchSize: DefaultBatchSize, Linger: DefaultLinger, Timeout: DefaultTimeout, Concurrency: DefaultConcurrency}
	switch c.API {
	case APIOffline:
		if c.Endpoint == "" {
			c.Endpoint = DefaultCampaignEndpoint
			if c.Sandbox {
				c.Endpoint = SandboxCampaignEndpoint
			}
		}
		d.MaxEventAge, d.Events, d.Concurrency = MaxOfflineEventAgeLimit, slices.Sorted(maps.Keys(c.EventNames)), DefaultOfflineConcurrency
	default:
		if c.Endpoint == "" {
			c.Endpoint = DefaultUETEndpoint
		}
		d.MaxEventAge, d.Events = MaxUETEventAgeLimit, slices.Clone(uetEvents)
	}
	c.Fill(d)
}

// Validate checks the fields without I/O; keys are relative to the
// destination's block.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	envName := func(key, value, what string) {
		switch {
		case value == "":
			add(key, "required (the name of the environment variable that holds the %s)", what)
		case !destination.ValidEnvName(value):
			add(key, "%q is not an environment variable name (put the secret in the environment, not in the file)", value)
		}
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("endpoint", "must be an http(s) URL, not %q", c.Endpoint)
	}
	maxAge := MaxUETEventAgeLimit
	switch c.API {
	case APIUET:
		envName("access_token_env", c.AccessTokenEnv, "UET Conversions API token")
		if !tagIDRe.MatchString(c.TagID) {
			add("tag_id", "required for api uet: the numeric UET tag id, not %q", c.TagID)
		}
		if c.DefaultPhoneRegion != "" && !regionRe.MatchString(c.DefaultPhoneRegion) {
			add("default_phone_region", "must be an upper-case ISO-3166 alpha-2 code such as US, not %q", c.DefaultPhoneRegion)
		}
		for _, e := range c.Events {
			if !slices.Contains(uetEvents, e) {
				add("events", "%q is not a canonical event name UET can take", e)
			}
		}
		c.onlyFor(APIOffline, add, map[string]bool{"customer_id": c.CustomerID != "", "account_id": c.AccountID != "", "developer_token_env": c.DeveloperTokenEnv != "", "sandbox": c.Sandbox})
	case APIOffline:
		maxAge = MaxOfflineEventAgeLimit
		envName("access_token_env", c.AccessTokenEnv, "Microsoft Advertising OAuth access token")
		envName("developer_token_env", c.DeveloperTokenEnv, "developer token")
		if !accountRe.MatchString(c.CustomerID) {
			add("customer_id", "required for api offline: the numeric manager account (customer) id, not %q", c.CustomerID)
		}
		if !accountRe.MatchString(c.AccountID) {
			add("account_id", "required for api offline: the numeric ad account id, not %q", c.AccountID)
		}
		if len(c.EventNames) == 0 {
			add("event_names", "required for api offline: map each event name to its offline conversion goal's name")
		}
		for _, e := range c.Events {
			if _, ok := c.EventNames[e]; !ok {
				add("events", "%q has no offline conversion goal (add it to event_names)", e)
			}
		}
		c.onlyFor(APIUET, add, map[string]bool{"tag_id": c.TagID != "", "default_phone_region": c.DefaultPhoneRegion != ""})
	default:
		add("api", "must be %s or %s, not %q", APIUET, APIOffline, c.API)
	}
	for _, name := range slices.Sorted(maps.Keys(c.EventNames)) {
		switch n := c.EventNames[name]; {
		case !slices.Contains(uetEvents, name):
			add("event_names."+name, "is not a canonical event name that can be sent")
		case n == "" || len(n) > maxConversionNameLength:
			add("event_names."+name, "must be 1 to %d characters", maxConversionNameLength)
		}
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: maxAge, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// onlyFor reports keys that are set but belong to the other api.
func (c Config) onlyFor(api string, add func(key, format string, args ...any), set map[string]bool) {
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if set[k] {
			add(k, "only for api %s (this entry is api %s)", api, c.API)
		}
	}
}

// EventName returns the UET event name or offline goal name for a canonical
// name.
func (c Config) EventName(name string) (string, bool) {
	if n, ok := c.EventNames[name]; ok {
		return n, true
	}
	return name, c.API == APIUET
}
