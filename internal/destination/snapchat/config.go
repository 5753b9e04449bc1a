// Package snapchat is the Snapchat Conversions API v3 destination: it maps
// canonical events to Snap's Meta-style server events with Snap's
// normalization and hashing, sends one batch per request to
// POST /v3/{pixel_id}/events with a Bearer token, and classifies Snap's
// answers.
//
// # Decisions on points the reference marks unconfirmed
//
//   - Batch limit: 2,000 events (third-party schemas and connectors); the
//     default batch is 1,000 to keep bodies small.
//   - Event age: 37 days, Snap's documented reporting window, is the default
//     and the cap.
//   - Partial failures: Snap documents none; its validate endpoint answers
//     HTTP 400 INVALID for the whole request. The destination is therefore
//     all-or-nothing (Limits.AllOrNothing): deliver splits a rejected batch
//     to find the bad event.
//   - Auth: the token goes in the Authorization: Bearer header rather than
//     the access_token query parameter the examples show, so that it never
//     appears in a URL (the sandbox accepts both).
//   - Test mode: validate_only posts to /v3/{pixel_id}/events/validate, which
//     checks the events without recording them.
//   - Event names: lead, qualified_lead and closed_deal have no Snap
//     standard event and go as CUSTOM_EVENT_1..3 (override with
//     event_names).
//   - Click id and cookie: the ScCid landing-page parameter is sent as
//     user_data.sc_click_id and the _scid cookie as user_data.sc_cookie1,
//     both unhashed.
package snapchat

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/httpapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Config is one Snap Pixel (or Snap App ID) to send to.
type Config struct {
	// Name is the destination's name in topics and reports, set from the
	// destination entry (default "snapchat").
	Name string `yaml:"-"`
	// PixelID is the Snap Pixel id (or Snap App ID for app events).
	PixelID string `yaml:"pixel_id"`
	// AccessTokenEnv names the environment variable holding the
	// Conversions API token.
	AccessTokenEnv string `yaml:"access_token_env"`
	// Endpoint is the API base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// ValidateOnly sends to the validate endpoint: checked, not recorded.
	ValidateOnly bool `yaml:"validate_only"`
	// Delivery holds batch_size (Snap allows 2000), linger, timeout,
	// concurrency, max_event_age (at most 37 days) and events.
	destination.Delivery `yaml:",inline"`
	// DefaultPhoneRegion is used for phone numbers without a country code
	// when the event has no address country (ISO-3166 alpha-2, e.g. US).
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// EventNames overrides the Snap event name per canonical name.
	EventNames map[string]string `yaml:"event_names"`
}

// Named defaults and limits.
const (
	DefaultName        = "snapchat"
	DefaultEndpoint    = "https://tr.snapchat.com"
	DefaultBatchSize   = 1000
	MaxBatchSize       = 2000
	DefaultLinger      = 250 * time.Millisecond
	MaxLinger          = time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 4
	MaxConcurrency     = 64
	MaxEventAgeLimit   = 37 * 24 * time.Hour
)

// DefaultEventNames maps canonical names to Snap events.
var DefaultEventNames = map[string]string{
	event.NamePageView:      "PAGE_VIEW",
	event.NameViewContent:   "VIEW_CONTENT",
	event.NameAddToCart:     "ADD_CART",
	event.NameCheckout:      "START_CHECKOUT",
	event.NameSignUp:        "SIGN_UP",
	event.NamePurchase:      "PURCHASE",
	event.NameLead:          "CUSTOM_EVENT_1",
	event.NameQualifiedLead: "CUSTOM_EVENT_2",
	event.NameClosedDeal:    "CUSTOM_EVENT_3",
}

var snapEventRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

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
		Events: slices.Sorted(maps.Keys(DefaultEventNames)),
	})
}

// Validate checks the fields without I/O; keys are relative to the block.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.PixelID == "" || url.PathEscape(c.PixelID) != c.PixelID {
		add("pixel_id", "required, the Snap Pixel id (or Snap App ID) from Events Manager, not %q", c.PixelID)
	}
	if err := httpapi.Check(c.AccessTokenEnv, c.Endpoint, c.DefaultPhoneRegion); err != nil {
		errs = append(errs, err)
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	for _, e := range c.Events {
		if c.SnapEventName(e) == "" {
			add("events", "%q has no Snap event name (add it to event_names)", e)
		}
	}
	for k, n := range c.EventNames {
		if !snapEventRe.MatchString(n) {
			add("event_names."+k, "%q is not a Snap event name (upper case, like PURCHASE)", n)
		}
	}
	return errors.Join(errs...)
}

// SnapEventName returns the Snap event for a canonical name, "" when there
// is none.
func (c Config) SnapEventName(name string) string {
	if n, ok := c.EventNames[name]; ok {
		return n
	}
	return DefaultEventNames[name]
}
