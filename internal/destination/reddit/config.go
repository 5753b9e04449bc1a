// Package reddit is the Reddit Conversions API (v3) destination: it maps
// canonical events to conversion events with Reddit's hashing (IP address
// included), sends a batch to /api/v3/pixels/{pixel}/conversion_events and
// turns Reddit's answer into one result per event.
//
// # Request
//
//	POST {endpoint}/api/v3/pixels/{pixel_id}/conversion_events
//	Authorization: Bearer <conversion access token from access_token_env>
//
//	{"data":{"test_id":"…",                         only with test_id set
//	         "events":[{"event_at":1795168800000,    epoch milliseconds
//	                    "action_source":"WEBSITE",    WEBSITE, APP or OTHER (crm)
//	                    "type":{"tracking_type":"PURCHASE"},   or CUSTOM + custom_event_name
//	                    "click_id":"<rdt_cid>",
//	                    "event_source_url":"https://…",
//	                    "user":{"email":"<sha256>","phone_number":"<sha256>","external_id":"<sha256>",
//	                            "ip_address":"<sha256>","user_agent":"Mozilla/5.0 …"},
//	                    "metadata":{"conversion_id":"ord-1001","currency":"USD","value":142.52,
//	                                "item_count":3,"products":[{"id":"sku-tee"}]}}]}}
//
// v2.0 (/api/v2.0/conversions/events/{account}) is deprecated; only v3 is
// implemented.
//
// # Decisions on points the reference marks unconfirmed
//
//   - Phone: E.164 with '+' before hashing; email trimmed and lowercased;
//     external_id as given; the IP address in its canonical form (pii.HashIP).
//   - value is a decimal number (Reddit: "total monetary value including
//     decimals"), sent with currency only on the event types that take it
//     (ADD_TO_CART, ADD_TO_WISHLIST, LEAD, PURCHASE, SIGN_UP, CUSTOM);
//     item_count only on ADD_TO_CART, ADD_TO_WISHLIST, PURCHASE, CUSTOM.
//   - Partial failure: a request with invalid events is answered 400 with the
//     failing events' indexes (error.details[].index). Those events are
//     rejected; the others are marked for an immediate retry, since the
//     request as a whole was refused (a resend is deduplicated by
//     conversion_id should Reddit have kept them). A 400 naming no event
//     fails the whole batch, which deliver then splits (AllOrNothing).
//   - Rate limits are not published; 429 backs off (Retry-After or 30 s).
//   - Test mode: test_id routes every request of this destination to the
//     Events Manager test tool; use a separate destination entry for tests,
//     never mix test and production events in one request.
package reddit

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

// Config is one Reddit pixel (ad account) to send to.
type Config struct {
	// Name is the destination's name in topics and reports, set from the
	// destination entry (default "reddit").
	Name    string `yaml:"-"`
	PixelID string `yaml:"pixel_id"`
	// AccessTokenEnv names the environment variable holding the conversion
	// access token (Events Manager → Conversions API → Generate Access Token).
	AccessTokenEnv string `yaml:"access_token_env"`
	// Endpoint is the Ads API base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// TestID, when set, sends every event of this destination as a test
	// event (data.test_id) visible in Events Manager's test tool.
	TestID string `yaml:"test_id"`
	// Delivery holds batch_size (Reddit allows 1000), linger, timeout,
	// concurrency, max_event_age (Reddit: 7 days) and events (default: all
	// but identify).
	destination.Delivery `yaml:",inline"`
	// DefaultPhoneRegion is used for phone numbers without a country code
	// when the event has no address country (ISO-3166 alpha-2, e.g. US).
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// EventTypes overrides the Reddit event per canonical name: a standard
	// tracking type (PURCHASE, LEAD, …) or any other text, which is sent as
	// a CUSTOM event of that name.
	EventTypes map[string]string `yaml:"event_types"`
}

// Named defaults and limits.
const (
	DefaultName        = "reddit"
	DefaultEndpoint    = "https://ads-api.reddit.com"
	MaxBatchSize       = 1000
	DefaultBatchSize   = MaxBatchSize
	DefaultLinger      = 250 * time.Millisecond
	MaxLinger          = time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 4
	MaxConcurrency     = 32
	// MaxEventAgeLimit is Reddit's limit: events must be sent within seven
	// days.
	MaxEventAgeLimit = 7 * 24 * time.Hour
)

// Reddit's standard tracking types.
const (
	TypePageVisit     = "PAGE_VISIT"
	TypeViewContent   = "VIEW_CONTENT"
	TypeSearch        = "SEARCH"
	TypeAddToCart     = "ADD_TO_CART"
	TypeAddToWishlist = "ADD_TO_WISHLIST"
	TypePurchase      = "PURCHASE"
	TypeLead          = "LEAD"
	TypeSignUp        = "SIGN_UP"
	TypeCustom        = "CUSTOM"
)

// standardTypes are the tracking types besides CUSTOM.
var standardTypes = []string{TypePageVisit, TypeViewContent, TypeSearch, TypeAddToCart, TypeAddToWishlist, TypePurchase, TypeLead, TypeSignUp}

// DefaultEventTypes maps canonical names to Reddit events; names without a
// standard type are custom events named as in Reddit's own examples.
var DefaultEventTypes = map[string]string{
	event.NamePageView:      TypePageVisit,
	event.NameViewContent:   TypeViewContent,
	event.NameAddToCart:     TypeAddToCart,
	event.NameCheckout:      "begin_checkout",
	event.NameSignUp:        TypeSignUp,
	event.NameLead:          TypeLead,
	event.NamePurchase:      TypePurchase,
	event.NameQualifiedLead: "qualified_lead",
	event.NameClosedDeal:    "closed_deal",
}

var (
	pixelRe  = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	regionRe = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	c.Fill(destination.Delivery{
		BatchSize: DefaultBatchSize, Linger: DefaultLinger, Timeout: DefaultTimeout,
		Concurrency: DefaultConcurrency, MaxEventAge: MaxEventAgeLimit,
		Events: slices.Sorted(maps.Keys(DefaultEventTypes)),
	})
}

// Validate checks the fields without I/O; keys are relative to the
// destination's block.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !pixelRe.MatchString(c.PixelID) {
		add("pixel_id", "required: the pixel id from Events Manager (letters, digits and _), not %q", c.PixelID)
	}
	if c.AccessTokenEnv == "" {
		add("access_token_env", "required (the name of the environment variable that holds the conversion access token)")
	} else if !destination.ValidEnvName(c.AccessTokenEnv) {
		add("access_token_env", "%q is not an environment variable name (put the token in the environment, not in the file)", c.AccessTokenEnv)
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("endpoint", "must be an http(s) URL, not %q", c.Endpoint)
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	if c.DefaultPhoneRegion != "" && !regionRe.MatchString(c.DefaultPhoneRegion) {
		add("default_phone_region", "must be an upper-case ISO-3166 alpha-2 code such as US, not %q", c.DefaultPhoneRegion)
	}
	for _, name := range slices.Sorted(maps.Keys(c.EventTypes)) {
		if _, ok := DefaultEventTypes[name]; !ok {
			add("event_types."+name, "is not a canonical event name that can be sent (one of %v)", slices.Sorted(maps.Keys(DefaultEventTypes)))
		} else if c.EventTypes[name] == "" || c.EventTypes[name] == TypeCustom {
			add("event_types."+name, "must be a tracking type or a custom event name")
		}
	}
	for _, e := range c.Events {
		if _, ok := DefaultEventTypes[e]; !ok {
			add("events", "%q is not a canonical event name Reddit can take", e)
		}
	}
	return errors.Join(errs...)
}

// EventType returns the tracking type and, for CUSTOM, the custom event name
// for a canonical name.
func (c Config) EventType(name string) (trackingType, customName string) {
	t, ok := c.EventTypes[name]
	if !ok {
		t = DefaultEventTypes[name]
	}
	if slices.Contains(standardTypes, t) {
		return t, ""
	}
	return TypeCustom, t
}
