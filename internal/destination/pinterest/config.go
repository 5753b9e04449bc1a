// Package pinterest is the Pinterest Conversions API (v5) destination: it
// maps canonical events to Pinterest conversion events with Pinterest's
// normalization and hashing, sends one batch per request to
// POST /v5/ad_accounts/{ad_account_id}/events with a Bearer token, and turns
// Pinterest's per-event statuses into per-event results.
//
// # Decisions on points the reference marks unconfirmed
//
//   - Batch limit: 1,000 events (RudderStack's constant citing Pinterest).
//   - Event age: Pinterest rejects old timestamps ("Given timestamp is in the
//     past") without publishing the window. We default to and cap
//     max_event_age at 7 days; events received after about an hour already
//     count as offline on Pinterest's side.
//   - Partial failures: an answer's events[] is in request order (doc); HTTP
//     200 and HTTP 422 (code 953) both carry it, at the top level or under
//     "details" respectively. An event whose status is "failed" is rejected
//     with Pinterest's error_message; the rest are delivered. An answer
//     whose events[] does not match the batch is accepted only if Pinterest
//     says it processed every event; otherwise every event is rejected
//     (reason unattributed_failure), because offline events cannot be
//     deduplicated and a blind resend could count them twice.
//   - Event names: page_view and view_content → page_visit, add_to_cart,
//     sign_up → signup, lead, purchase → checkout. begin_checkout and the CRM
//     stages have no Pinterest event; map them with event_names (e.g. to
//     "custom") to send them.
//   - action_source: web → web, crm → offline, app → app_action_source
//     (default app_android: the canonical event does not say which OS).
//   - The epik click id (landing URL or _epik cookie) is sent as
//     user_data.click_id, unhashed.
package pinterest

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/httpapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Config is one Pinterest ad account to send to.
type Config struct {
	// Name is the destination's name in topics and reports, set from the
	// destination entry (default "pinterest").
	Name string `yaml:"-"`
	// AdAccountID is the ad account the conversions belong to.
	AdAccountID string `yaml:"ad_account_id"`
	// AccessTokenEnv names the environment variable holding the conversion
	// access token (or an OAuth token with ads:write).
	AccessTokenEnv string `yaml:"access_token_env"`
	// Endpoint is the API base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// Test sends ?test=true: Pinterest validates and answers as usual but
	// records nothing.
	Test bool `yaml:"test"`
	// Delivery holds batch_size (Pinterest allows 1000), linger, timeout,
	// concurrency, max_event_age (at most 7 days) and events.
	destination.Delivery `yaml:",inline"`
	// DefaultPhoneRegion is used for phone numbers without a country code
	// when the event has no address country (ISO-3166 alpha-2, e.g. US).
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// AppActionSource is the action_source of app events: app_android or
	// app_ios (default app_android).
	AppActionSource string `yaml:"app_action_source"`
	// EventNames overrides the Pinterest event name per canonical name.
	EventNames map[string]string `yaml:"event_names"`
}

// Named defaults and limits.
const (
	DefaultName      = "pinterest"
	DefaultEndpoint  = "https://api.pinterest.com"
	DefaultBatchSize = 1000
	MaxBatchSize     = 1000
	DefaultLinger    = 250 * time.Millisecond
	// MaxRequestsPerMinute is Pinterest's documented limit per ad account.
	MaxRequestsPerMinute   = 5000
	MaxLinger              = time.Minute
	DefaultTimeout         = 10 * time.Second
	DefaultConcurrency     = 4
	MaxConcurrency         = 64
	MaxEventAgeLimit       = 7 * 24 * time.Hour
	DefaultAppActionSource = "app_android"
)

// EventNamesAllowed are Pinterest's event_name values.
var EventNamesAllowed = []string{"add_to_cart", "checkout", "custom", "lead", "page_visit", "search", "signup", "view_category", "watch_video"}

// DefaultEventNames maps canonical names to Pinterest events.
var DefaultEventNames = map[string]string{
	event.NamePageView:    "page_visit",
	event.NameViewContent: "page_visit",
	event.NameAddToCart:   "add_to_cart",
	event.NameSignUp:      "signup",
	event.NameLead:        "lead",
	event.NamePurchase:    "checkout",
}

var adAccountRe = regexp.MustCompile(`^\d{1,20}$`)

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.AppActionSource == "" {
		c.AppActionSource = DefaultAppActionSource
	}
	c.Fill(destination.Delivery{
		BatchSize: DefaultBatchSize, Linger: DefaultLinger, Timeout: DefaultTimeout,
		Concurrency: DefaultConcurrency, MaxEventAge: MaxEventAgeLimit,
		Events:            slices.Sorted(maps.Keys(DefaultEventNames)),
		RequestsPerMinute: MaxRequestsPerMinute,
	})
}

// Validate checks the fields without I/O; keys are relative to the block.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !adAccountRe.MatchString(c.AdAccountID) {
		add("ad_account_id", "required, the numeric ad account id, not %q", c.AdAccountID)
	}
	if err := httpapi.Check(c.AccessTokenEnv, c.Endpoint, c.DefaultPhoneRegion); err != nil {
		errs = append(errs, err)
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
		MaxRequestsPerMinute: MaxRequestsPerMinute,
	}); err != nil {
		errs = append(errs, err)
	}
	if c.AppActionSource != "app_android" && c.AppActionSource != "app_ios" {
		add("app_action_source", "must be app_android or app_ios, not %q", c.AppActionSource)
	}
	for _, e := range c.Events {
		if n := c.PinterestEventName(e); n == "" {
			add("events", "%q has no Pinterest event name (add it to event_names)", e)
		}
	}
	for k, n := range c.EventNames {
		if !slices.Contains(EventNamesAllowed, n) {
			add("event_names."+k, "%q is not a Pinterest event name (one of %v)", n, EventNamesAllowed)
		}
	}
	return errors.Join(errs...)
}

// PinterestEventName returns the Pinterest event for a canonical name, ""
// when there is none.
func (c Config) PinterestEventName(name string) string {
	if n, ok := c.EventNames[name]; ok {
		return n
	}
	return DefaultEventNames[name]
}
