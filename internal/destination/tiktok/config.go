// Package tiktok is the TikTok Events API 2.0 destination: it maps canonical
// events to TikTok's data[] items with TikTok's normalization and hashing,
// sends one batch per request to POST /open_api/{version}/event/track/ with
// the Access-Token header, and classifies TikTok's answers, which carry
// their outcome in a JSON code (often with HTTP 200).
//
// # Decisions on points the reference marks unconfirmed
//
//   - Batch limit: 1,000 events per request (the common claim); batch_size
//     may not exceed it.
//   - Event age: TikTok publishes no limit for the Events API. We default to
//     and cap max_event_age at 7 days, the shortest window among comparable
//     APIs (Meta), because an event TikTok silently ignores is worse than
//     one we report as expired.
//   - Partial success (code 20001): the shape of TikTok's per-event detail is
//     not published. When the answer's data names failed events
//     (data.failed_events[].index, as the sandbox answers) only those are
//     rejected and the rest delivered; when it names none, every event of
//     the batch is rejected with reason partial_failure, so that nothing is
//     counted as delivered that TikTok may have dropped (a replay is
//     harmless: TikTok deduplicates by pixel + event + event_id for 48 h).
//   - Code 40700: RudderStack retries it as a server-side error; so do we.
//   - Event names: purchase → CompletePayment (the long-standing standard
//     event), lead → SubmitForm, sign_up → CompleteRegistration; CRM stages
//     use custom names. page_view has no Events API standard event and is
//     not sent unless event_names maps it.
//   - Only email, phone and external_id are sent hashed, plus the raw ip,
//     user_agent, ttclid and ttp. Names and address parts are not sent:
//     TikTok's hashing rules for them are not documented.
package tiktok

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

// Config is one TikTok event source (a pixel, app or offline event set).
type Config struct {
	// Name is the destination's name in topics and reports, set from the
	// destination entry (default "tiktok").
	Name string `yaml:"-"`
	// EventSource is web, app, offline or crm (default web).
	EventSource string `yaml:"event_source"`
	// EventSourceID is the pixel code, TikTok app id or offline/CRM event
	// set id.
	EventSourceID string `yaml:"event_source_id"`
	// AccessTokenEnv names the environment variable holding the token.
	AccessTokenEnv string `yaml:"access_token_env"`
	APIVersion     string `yaml:"api_version"`
	// Endpoint is the Business API base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// TestEventCode sends events to Events Manager's Test Events tool
	// instead of counting them.
	TestEventCode string `yaml:"test_event_code"`
	// Delivery holds batch_size (TikTok allows 1000), linger, timeout,
	// concurrency, max_event_age (at most 7 days) and events.
	destination.Delivery `yaml:",inline"`
	// DefaultPhoneRegion is used for phone numbers without a country code
	// when the event has no address country (ISO-3166 alpha-2, e.g. US).
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// EventNames overrides the TikTok event name per canonical name.
	EventNames map[string]string `yaml:"event_names"`
}

// Named defaults and limits.
const (
	DefaultName        = "tiktok"
	DefaultAPIVersion  = "v1.3"
	DefaultEndpoint    = "https://business-api.tiktok.com"
	DefaultEventSource = "web"
	DefaultBatchSize   = 1000
	MaxBatchSize       = 1000
	DefaultLinger      = 250 * time.Millisecond
	MaxLinger          = time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 4
	MaxConcurrency     = 64
	// MaxEventAgeLimit is our cap; TikTok publishes none (see the package
	// doc).
	MaxEventAgeLimit = 7 * 24 * time.Hour
)

// EventSources are the values event_source may take.
var EventSources = []string{"web", "app", "offline", "crm"}

// DefaultEventNames maps canonical names to TikTok's standard events; the
// CRM lead stages use custom names.
var DefaultEventNames = map[string]string{
	event.NameViewContent:   "ViewContent",
	event.NameAddToCart:     "AddToCart",
	event.NameCheckout:      "InitiateCheckout",
	event.NameSignUp:        "CompleteRegistration",
	event.NameLead:          "SubmitForm",
	event.NamePurchase:      "CompletePayment",
	event.NameQualifiedLead: "QualifiedLead",
	event.NameClosedDeal:    "ClosedDeal",
}

var apiVersionRe = regexp.MustCompile(`^v\d+\.\d+$`)

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.EventSource == "" {
		c.EventSource = DefaultEventSource
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
		Events: slices.Sorted(maps.Keys(DefaultEventNames)),
	})
}

// Validate checks the fields without I/O; keys are relative to the block.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !slices.Contains(EventSources, c.EventSource) {
		add("event_source", "must be one of %v, not %q", EventSources, c.EventSource)
	}
	if c.EventSourceID == "" {
		add("event_source_id", "required (the pixel code, app id or offline event set id from Events Manager)")
	}
	if err := httpapi.Check(c.AccessTokenEnv, c.Endpoint, c.DefaultPhoneRegion); err != nil {
		errs = append(errs, err)
	}
	if !apiVersionRe.MatchString(c.APIVersion) {
		add("api_version", "must look like v1.3, not %q", c.APIVersion)
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	for _, e := range c.Events {
		if c.TikTokEventName(e) == "" {
			add("events", "%q has no TikTok event name (add it to event_names)", e)
		}
	}
	return errors.Join(errs...)
}

// TikTokEventName returns the TikTok event for a canonical name, "" when
// there is none.
func (c Config) TikTokEventName(name string) string {
	if n, ok := c.EventNames[name]; ok {
		return n
	}
	return DefaultEventNames[name]
}
