// Package ga4 is the Google Analytics 4 Measurement Protocol destination
// (type ga4), for teams that import conversions into Google Ads from GA4:
//
//	POST {endpoint}/mp/collect?measurement_id=G-XXXX&api_secret=<$api_secret_env>
//	     (firebase_app_id=… instead of measurement_id for an app stream)
//	{"client_id" | "app_instance_id", "user_id", "consent", "user_data",
//	 "events": [{"name", "timestamp_micros", "params": {...}}, ...]}
//
// # What GA4 does differently
//
// The production endpoint answers 2xx to almost anything, valid or not, and
// drops what it cannot use: it never says why. With validate: true the
// destination posts to /debug/mp/collect instead, whose validationMessages
// are turned into per-event Rejected results (nothing is recorded by GA4
// there), so a deployment is checked against the validation server first.
//
// One request carries one user (client_id, user_id, user_data and consent
// are request-level) and at most 25 events. Send therefore groups a batch by
// user, in order, and makes one request per group (25 events at most, which
// is also Limits.MaxBatch); results stay per event. This is the one
// destination that may make several requests for a batch; a pipeline batch
// of one user's events is one request. When a later group fails after an
// earlier one was sent, the remaining events get per-event Retry (or
// Rejected) results rather than an error for the whole batch.
//
// # Decisions
//
//   - client_id is the event's anonymous_id (the _ga cookie's client id when
//     the web tag forwards it); without one it is derived from the user id
//     ("sp." + the first 20 hex digits of its SHA-256) so one user stays one
//     GA4 user; an event with neither is rejected. App streams need the
//     Firebase app_instance_id, which only the app knows: anonymous_id must
//     carry it, or the event is rejected.
//   - timestamp_micros is set per event from the event time; GA4 accepts
//     events up to 72 hours old, which is max_event_age's limit.
//   - user_data follows Google's rules (pii.GA4, the same table as Google
//     Ads): SHA-256 hex of e-mail, E.164 phone, names and street; city,
//     region, postal code and country in the clear.
//   - Event names are GA4's recommended ones (purchase, generate_lead,
//     qualify_lead, close_convert_lead, …); event_names overrides them.
//   - transaction_id is the order id (GA4 deduplicates purchases on it).
//   - user_id is sent as given unless it looks like an e-mail address: GA4
//     forbids personal data in user_id, so such a value is dropped.
//   - The api_secret is a query parameter, as GA4 documents; it is scrubbed
//     from every transport error.
//   - Value signals: purchases get the parameter customer_type (new or
//     returning); the request gets the user properties lifetime_value and
//     rfm_segment when known.
package ga4

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

// Config is one GA4 data stream.
type Config struct {
	// Name is the destination's name (default "ga4").
	Name string `yaml:"-"`
	// MeasurementID is a web stream's id (G-XXXXXXX).
	MeasurementID string `yaml:"measurement_id"`
	// FirebaseAppID is an app stream's id, instead of MeasurementID.
	FirebaseAppID string `yaml:"firebase_app_id"`
	// APISecretEnv names the variable holding the stream's API secret.
	APISecretEnv string `yaml:"api_secret_env"`
	// Endpoint is the collection base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// ValidationServer (key validate) sends to the validation server
	// (/debug/mp/collect) instead of collecting.
	ValidationServer bool `yaml:"validate"`
	// EventNames overrides the GA4 event name per canonical name.
	EventNames map[string]string `yaml:"event_names"`
	// DefaultPhoneRegion is used for phone numbers without a country code.
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// Delivery: batch_size (≤ 25), linger, timeout, concurrency,
	// max_event_age (≤ 72h), events.
	destination.Delivery `yaml:",inline"`
}

// Named defaults and limits.
const (
	DefaultName        = "ga4"
	DefaultEndpoint    = "https://www.google-analytics.com"
	DefaultBatchSize   = 25
	MaxBatchSize       = 25
	DefaultLinger      = 500 * time.Millisecond
	MaxLinger          = time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 4
	MaxConcurrency     = 64
	// MaxEventAgeLimit is how far GA4 lets events be backdated.
	MaxEventAgeLimit = 72 * time.Hour
)

// DefaultEventNames maps canonical names to GA4's recommended events.
var DefaultEventNames = map[string]string{
	event.NamePageView:      "page_view",
	event.NameViewContent:   "view_item",
	event.NameAddToCart:     "add_to_cart",
	event.NameCheckout:      "begin_checkout",
	event.NameSignUp:        "sign_up",
	event.NameLead:          "generate_lead",
	event.NamePurchase:      "purchase",
	event.NameQualifiedLead: "qualify_lead",
	event.NameClosedDeal:    "close_convert_lead",
}

var (
	measurementRe = regexp.MustCompile(`^G-[A-Z0-9]{4,20}$`)
	firebaseRe    = regexp.MustCompile(`^[0-9]+:[0-9]+:[a-z]+:[0-9a-f]+$`)
	nameRe        = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,39}$`)
	regionRe      = regexp.MustCompile(`^[A-Z]{2}$`)
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
		Events: slices.Sorted(maps.Keys(DefaultEventNames)),
	})
}

// Validate checks the fields without I/O.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch {
	case c.MeasurementID == "" && c.FirebaseAppID == "":
		add("measurement_id", "required (G-XXXXXXX), or firebase_app_id for an app stream")
	case c.MeasurementID != "" && c.FirebaseAppID != "":
		add("measurement_id", "set measurement_id or firebase_app_id, not both")
	case c.MeasurementID != "" && !measurementRe.MatchString(c.MeasurementID):
		add("measurement_id", "must look like G-XXXXXXX, not %q", c.MeasurementID)
	case c.FirebaseAppID != "" && !firebaseRe.MatchString(c.FirebaseAppID):
		add("firebase_app_id", "must look like 1:1234567890:android:abc123, not %q", c.FirebaseAppID)
	}
	if c.APISecretEnv == "" {
		add("api_secret_env", "required (the name of the environment variable that holds the API secret)")
	} else if !destination.ValidEnvName(c.APISecretEnv) {
		add("api_secret_env", "%q is not an environment variable name (put the secret in the environment, not in the file)", c.APISecretEnv)
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("endpoint", "must be an http(s) URL, not %q", c.Endpoint)
	}
	for _, k := range slices.Sorted(maps.Keys(c.EventNames)) {
		if !nameRe.MatchString(c.EventNames[k]) {
			add("event_names."+k, "GA4 names start with a letter and hold up to 40 letters, digits and _, not %q", c.EventNames[k])
		}
	}
	for _, e := range c.Events {
		if c.EventName(e) == "" {
			add("events", "%q has no GA4 event name (add it to event_names)", e)
		}
	}
	if c.DefaultPhoneRegion != "" && !regionRe.MatchString(c.DefaultPhoneRegion) {
		add("default_phone_region", "must be an upper-case ISO-3166 alpha-2 code such as US, not %q", c.DefaultPhoneRegion)
	}
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// EventName returns the GA4 name for a canonical name, or "".
func (c Config) EventName(name string) string {
	if n, ok := c.EventNames[name]; ok {
		return n
	}
	return DefaultEventNames[name]
}

// app reports whether the stream is an app stream.
func (c Config) app() bool { return c.FirebaseAppID != "" }
