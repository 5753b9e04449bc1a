// Package linkedin is the LinkedIn Conversions API destination: it maps
// canonical events to conversion events, sends them in one BATCH_CREATE
// request to /rest/conversionEvents, and reads LinkedIn's per-element
// statuses into one result per event.
//
// # Request
//
//	POST {endpoint}/rest/conversionEvents
//	Authorization: Bearer <token from access_token_env>   (3-legged OAuth, scope rw_conversions)
//	LinkedIn-Version: 202607                              (api_version, YYYYMM)
//	X-Restli-Protocol-Version: 2.0.0
//	X-RestLi-Method: BATCH_CREATE
//
//	{"elements":[{"conversion":"urn:lla:llaPartnerConversion:123",
//	              "conversionHappenedAt":1795168800000,        epoch milliseconds
//	              "conversionValue":{"currencyCode":"USD","amount":"142.52"},
//	              "eventId":"ord-1001",                        dedupe with the Insight Tag, ≤ 64 chars
//	              "user":{"userIds":[{"idType":"SHA256_EMAIL","idValue":"<sha256>"},
//	                                 {"idType":"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID","idValue":"<li_fat_id>"}],
//	                      "userInfo":{"firstName":"John","lastName":"Smith","countryCode":"US"}}}]}
//
// Each canonical event name is sent to the conversion rule that conversions
// names (a rule created with conversionMethod CONVERSIONS_API); an event with
// no rule is never sent.
//
// # Decisions on points the reference marks unconfirmed
//
//   - Email normalization: trimmed and lowercased before SHA-256 (pii.LinkedIn).
//   - userInfo is plain text as LinkedIn documents; it is sent only when both
//     first and last name are known, since LinkedIn matches on the pair.
//   - ACXIOM_ID and ORACLE_MOAT_ID: the canonical event carries neither, so
//     they are never sent; SHA256_EMAIL and the li_fat_id click id are.
//   - Batch size 5,000 and age 90 days (third-party figures, the only ones
//     published); rate limits conflict (300 or 600 per minute), so the
//     defaults send at most a few requests a second and deliver backs off on
//     429.
//   - Test mode: LinkedIn has none. Send test traffic to a separate
//     conversion rule (its own destination entry) and delete the rule after.
//   - A per-element status 409 (the eventId was already received) counts as
//     delivered.
package linkedin

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Config is one LinkedIn ad account's conversion rules to send to.
type Config struct {
	// Name is the destination's name in topics and reports, set from the
	// destination entry (default "linkedin").
	Name string `yaml:"-"`
	// AccessTokenEnv names the environment variable holding the OAuth
	// access token (scope rw_conversions).
	AccessTokenEnv string `yaml:"access_token_env"`
	// APIVersion is the LinkedIn-Version header, YYYYMM. LinkedIn sunsets
	// each monthly version a year after release (and then answers 426), so
	// pin it and raise it on purpose.
	APIVersion string `yaml:"api_version"`
	// Endpoint is the API base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// Conversions maps canonical event names to the conversion rule each is
	// counted under: the rule's numeric id or its full
	// urn:lla:llaPartnerConversion URN.
	Conversions map[string]string `yaml:"conversions"`
	// Delivery holds batch_size (LinkedIn allows 5000), linger, timeout,
	// concurrency, max_event_age (LinkedIn: 90 days) and events (default:
	// every event that has a conversion rule).
	destination.Delivery `yaml:",inline"`
}

// Named defaults and limits.
const (
	DefaultName       = "linkedin"
	DefaultAPIVersion = "202607"
	DefaultEndpoint   = "https://api.linkedin.com"
	// MaxBatchSize is LinkedIn's BATCH_CREATE limit for conversion events.
	MaxBatchSize     = 5000
	DefaultBatchSize = MaxBatchSize
	// DefaultLinger fills batches: LinkedIn counts requests (300–600 a
	// minute), not events, so fewer, fuller requests are cheaper.
	DefaultLinger = time.Second
	// DefaultRequestsPerMinute follows third-party reports of 600 calls a
	// minute (LinkedIn publishes none; the reports conflict), so it is a
	// default, not a cap.
	DefaultRequestsPerMinute = 600
	MaxLinger                = time.Minute
	DefaultTimeout           = 15 * time.Second
	DefaultConcurrency       = 2
	MaxConcurrency           = 8
	// MaxEventAgeLimit is LinkedIn's limit: older conversions are rejected.
	MaxEventAgeLimit = 90 * 24 * time.Hour
	// MaxEventIDLength is LinkedIn's limit on eventId.
	MaxEventIDLength = 64
	// ConversionURNPrefix is how a conversion rule is referenced.
	ConversionURNPrefix = "urn:lla:llaPartnerConversion:"
)

var (
	apiVersionRe = regexp.MustCompile(`^20\d{2}(0[1-9]|1[0-2])$`)
	conversionRe = regexp.MustCompile(`^(urn:lla:llaPartnerConversion:)?[1-9][0-9]*$`)
)

// sendable are the canonical names a conversion rule may be given: all but
// identify, which is no conversion.
var sendable = []string{
	event.NamePageView, event.NameViewContent, event.NameAddToCart, event.NameCheckout,
	event.NameSignUp, event.NameLead, event.NamePurchase, event.NameQualifiedLead, event.NameClosedDeal,
}

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	c.Fill(destination.Delivery{
		BatchSize: DefaultBatchSize, Linger: DefaultLinger, Timeout: DefaultTimeout,
		Concurrency: DefaultConcurrency, MaxEventAge: MaxEventAgeLimit,
		Events:            slices.Sorted(maps.Keys(c.Conversions)),
		RequestsPerMinute: DefaultRequestsPerMinute,
	})
}

// Validate checks the fields without I/O; keys are relative to the
// destination's block.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.AccessTokenEnv == "" {
		add("access_token_env", "required (the name of the environment variable that holds the OAuth token)")
	} else if !destination.ValidEnvName(c.AccessTokenEnv) {
		add("access_token_env", "%q is not an environment variable name (put the token in the environment, not in the file)", c.AccessTokenEnv)
	}
	if !apiVersionRe.MatchString(c.APIVersion) {
		add("api_version", "must be a LinkedIn-Version such as %s (YYYYMM), not %q", DefaultAPIVersion, c.APIVersion)
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("endpoint", "must be an http(s) URL, not %q", c.Endpoint)
	}
	if len(c.Conversions) == 0 {
		add("conversions", "required: map each event name to its conversion rule id (created with conversionMethod CONVERSIONS_API)")
	}
	for _, name := range slices.Sorted(maps.Keys(c.Conversions)) {
		switch {
		case !slices.Contains(sendable, name):
			add("conversions."+name, "is not a canonical event name that can be a conversion (one of %v)", sendable)
		case !conversionRe.MatchString(c.Conversions[name]):
			add("conversions."+name, "must be a conversion rule id or %s<id>, not %q", ConversionURNPrefix, c.Conversions[name])
		}
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	for _, e := range c.Events {
		if _, ok := c.Conversions[e]; !ok {
			add("events", "%q has no conversion rule (add it to conversions)", e)
		}
	}
	return errors.Join(errs...)
}

// ConversionURN returns the conversion rule URN events named name count
// under, and whether there is one.
func (c Config) ConversionURN(name string) (string, bool) {
	id, ok := c.Conversions[name]
	if !ok {
		return "", false
	}
	if strings.HasPrefix(id, ConversionURNPrefix) {
		return id, true
	}
	return ConversionURNPrefix + id, true
}
