// Package meta is the Meta Conversions API destination: it maps canonical
// events to CAPI server events with Meta's normalization and hashing, sends
// batches to /{version}/{pixel}/events, and classifies Graph API answers.
package meta

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

// Config is one Meta pixel (dataset) to send to.
type Config struct {
	// Name is the destination's name in topics and reports, set from the
	// destination entry (default "meta").
	Name    string `yaml:"-"`
	PixelID string `yaml:"pixel_id"`
	// AccessTokenEnv names the environment variable holding the token.
	AccessTokenEnv string `yaml:"access_token_env"`
	APIVersion     string `yaml:"api_version"`
	// Endpoint is the Graph API base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// TestEventCode routes events to Events Manager's Test Events tool.
	TestEventCode string `yaml:"test_event_code"`
	// Delivery holds batch_size (Meta allows 1000), linger, timeout,
	// concurrency, max_event_age (Meta: 7 days; one older event fails the
	// whole request, so older ones never enter a batch) and events (default:
	// all but identify).
	destination.Delivery `yaml:",inline"`
	// DefaultPhoneRegion is used for phone numbers without a country code
	// when the event has no address country (ISO-3166 alpha-2, e.g. US).
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// EventNames overrides the Meta event name per canonical name.
	EventNames map[string]string `yaml:"event_names"`
	// HashExternalID hashes external_id (Meta recommends it; it must match
	// what the Pixel sends). Default true.
	HashExternalID *bool `yaml:"hash_external_id"`
}

// Named defaults.
const (
	DefaultName        = "meta"
	DefaultAPIVersion  = "v21.0"
	DefaultEndpoint    = "https://graph.facebook.com"
	DefaultBatchSize   = 1000
	MaxBatchSize       = 1000
	DefaultLinger      = 250 * time.Millisecond
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 4
	// MaxEventAgeLimit is Meta's limit for non-store events.
	MaxEventAgeLimit = 7 * 24 * time.Hour
)

// DefaultEventNames maps canonical names to Meta's standard events; the CRM
// lead stages use custom event names, as Meta's CRM integration does.
var DefaultEventNames = map[string]string{
	event.NamePageView:      "PageView",
	event.NameViewContent:   "ViewContent",
	event.NameAddToCart:     "AddToCart",
	event.NameCheckout:      "InitiateCheckout",
	event.NameSignUp:        "CompleteRegistration",
	event.NameLead:          "Lead",
	event.NamePurchase:      "Purchase",
	event.NameQualifiedLead: "QualifiedLead",
	event.NameClosedDeal:    "ClosedDeal",
}

var (
	apiVersionRe = regexp.MustCompile(`^v\d+\.\d+$`)
	regionRe     = regexp.MustCompile(`^[A-Z]{2}$`)
)

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
		Concurrency: DefaultConcurrency, MaxEventAge: MaxEventAgeLimit, Events: defaultEvents(),
	})
	if c.HashExternalID == nil {
		t := true
		c.HashExternalID = &t
	}
}

// Validate checks the fields; keys are relative to destinations.meta.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.PixelID == "" {
		add("pixel_id", "required (the dataset id from Events Manager)")
	}
	if c.AccessTokenEnv == "" {
		add("access_token_env", "required (the name of the environment variable that holds the token)")
	} else if !destination.ValidEnvName(c.AccessTokenEnv) {
		add("access_token_env", "%q is not an environment variable name (put the token in the environment, not in the file)", c.AccessTokenEnv)
	}
	if !apiVersionRe.MatchString(c.APIVersion) {
		add("api_version", "must look like v21.0, not %q", c.APIVersion)
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("endpoint", "must be an http(s) URL, not %q", c.Endpoint)
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: 64, MaxLinger: time.Minute,
	}); err != nil {
		errs = append(errs, err)
	}
	if c.DefaultPhoneRegion != "" && !regionRe.MatchString(c.DefaultPhoneRegion) {
		add("default_phone_region", "must be an upper-case ISO-3166 alpha-2 code such as US, not %q", c.DefaultPhoneRegion)
	}
	for _, e := range c.Events {
		if _, ok := DefaultEventNames[e]; !ok {
			if _, ok := c.EventNames[e]; !ok {
				add("events", "%q has no Meta event name (add it to event_names)", e)
			}
		}
	}
	return errors.Join(errs...)
}

// defaultEvents is every name with a Meta event, in a fixed order.
func defaultEvents() []string {
	return slices.Sorted(maps.Keys(DefaultEventNames))
}

// MetaEventName returns the Meta event name for a canonical name.
func (c Config) MetaEventName(name string) string {
	if n, ok := c.EventNames[name]; ok {
		return n
	}
	if n, ok := DefaultEventNames[name]; ok {
		return n
	}
	return name
}
