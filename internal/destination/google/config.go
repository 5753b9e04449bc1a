// Package google is the Google Ads destination through the Data Manager API
// (POST https://datamanager.googleapis.com/v1/events:ingest), Google's
// primary path for offline click conversions and enhanced conversions for
// leads since the Google Ads API started allow-listing UploadClickConversions
// (platform-apis.md §2, §2b). Type "google" in the config; several entries
// send to several Google Ads customers, each with its own name.
//
// # Request
//
// One request per batch of up to 2,000 events:
//
//	POST {endpoint}/v1/events:ingest
//	Authorization: Bearer <OAuth 2.0 access token, scope datamanager>
//	{"destinations": [{"operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "<customer_id>"},
//	                   "loginAccount": {...}, "productDestinationId": "<conversion action id>"}],
//	 "encoding": "HEX", "validateOnly": <validate_only>, "events": [...]}
//
// Each event carries transactionId (the order id, else the event id: the
// dedupe key, so a resent batch does not count twice), eventTimestamp
// (RFC 3339), eventSource (WEB, APP, or OTHER for CRM events), adIdentifiers
// (one click id, see below), conversionValue and currency, per-event consent
// (adUserData / adPersonalization from the event's consent, omitted when the
// event has none) and userData: up to three identifiers, SHA-256 hex of the
// e-mail, the phone (E.164 with '+') and an address (hashed given and family
// name, unhashed region code and postal code), normalized by pii.Google.
// userProperties carries the value signals: customerType NEW or RETURNING
// (purchases) and customerValueBucket LOW, MEDIUM or HIGH from the lifetime
// value on customer_value_buckets.
//
// # Decisions on points platform-apis.md leaves open
//
//   - Click ids: Google forbids gbraid together with wbraid. We send the
//     gclid alone when there is one; otherwise gbraid for app events and
//     wbraid for web ones (the other is dropped).
//   - Batches are all or nothing: Google documents a fast-fail model (one
//     invalid event fails the request, nothing is processed), so
//     Limits.AllOrNothing is true and deliver splits a rejected batch.
//   - Maximum event age: 90 days, the longest click-through lookback a
//     conversion action can have (the Data Manager docs give none).
//   - Dedupe: Google deduplicates on transactionId; there is no duplicate
//     error to map. Processing is asynchronous, so acceptance (HTTP 200 with
//     a requestId, kept as the outcome's platform_ref) is "delivered".
//   - IP addresses are never sent: Google refuses them for EEA, UK and CH
//     users and the event does not say where the user is.
//   - An address identifier is sent only when all four of its required
//     parts (given name, family name, region, postal code) are known.
//   - validate_only: true sends validateOnly, so Google checks the request
//     and stores nothing; the events are still reported delivered.
//
// Errors follow google.rpc.Status (see errors.go and package googleapi).
package google

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Config is one Google Ads customer to send conversions to.
type Config struct {
	// Name is the destination's name in topics and reports (default
	// "google"), set from the destination entry.
	Name string `yaml:"-"`
	// CustomerID is the Google Ads customer (operating account), ten digits
	// without dashes.
	CustomerID string `yaml:"customer_id"`
	// LoginCustomerID is the manager account the credentials act through,
	// when they do.
	LoginCustomerID string `yaml:"login_customer_id"`
	// ConversionActions: conversion_action_id, and conversion_actions per
	// canonical event name (e.g. qualified_lead: "555").
	googleapi.ConversionActions `yaml:",inline"`
	// Endpoint is the Data Manager API base URL; the sandbox's in tests.
	Endpoint string `yaml:"endpoint"`
	// ValidateOnly makes Google check requests without storing them.
	ValidateOnly bool `yaml:"validate_only"`
	// DefaultPhoneRegion is used for phone numbers without a country code
	// when the event has no address country.
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// ValueBuckets turn a customer's lifetime value into the
	// customerValueBucket Google takes (LOW, MEDIUM, HIGH).
	ValueBuckets ValueBuckets `yaml:"customer_value_buckets"`
	// Credentials: service_account_key_file, or client_id_env,
	// client_secret_env and refresh_token_env; token_url.
	googleapi.Credentials `yaml:",inline"`
	// Delivery holds batch_size (at most 2,000), linger, timeout,
	// concurrency, max_event_age (at most 90 days) and events.
	destination.Delivery `yaml:",inline"`
}

// Named defaults and limits.
const (
	DefaultName      = "google"
	DefaultEndpoint  = "https://datamanager.googleapis.com"
	Scope            = "https://www.googleapis.com/auth/datamanager"
	DefaultBatchSize = 2000
	MaxBatchSize     = 2000
	DefaultLinger    = time.Second
	// MaxRequestsPerMinute is the Data Manager API's documented quota (300
	// requests a minute per Google Cloud project). Accounts that share a
	// project share it: give each a share with requests_per_minute.
	MaxRequestsPerMinute = 300
	MaxLinger            = time.Minute
	DefaultTimeout       = 30 * time.Second
	DefaultConcurrency   = 2
	MaxConcurrency       = 16
	// MaxEventAgeLimit is the longest click-through lookback window.
	MaxEventAgeLimit = 90 * 24 * time.Hour
	// MaxDestinations is how many conversion actions one request may name.
	MaxDestinations = 10
)

// ValueBuckets are the lifetime values (in the account's currency, as the
// CRM or the purchases state them) from which a customer counts as MEDIUM
// and HIGH value; below Medium it is LOW.
type ValueBuckets struct {
	Medium float64 `yaml:"medium"`
	High   float64 `yaml:"high"`
}

// Default value bucket thresholds: the edges of the RFM monetary bands the
// process stage scores (200 and 1,000).
const (
	DefaultValueBucketMedium = 200
	DefaultValueBucketHigh   = 1000
)

// Bucket is the bucket of a lifetime value v.
func (b ValueBuckets) Bucket(v float64) string {
	switch {
	case v >= b.High:
		return BucketHigh
	case v >= b.Medium:
		return BucketMedium
	}
	return BucketLow
}

// DefaultEvents are the conversions sent when events is empty.
var DefaultEvents = []string{event.NamePurchase, event.NameLead, event.NameSignUp, event.NameQualifiedLead, event.NameClosedDeal}

var (
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
	if c.ValueBuckets == (ValueBuckets{}) {
		c.ValueBuckets = ValueBuckets{Medium: DefaultValueBucketMedium, High: DefaultValueBucketHigh}
	}
	c.Credentials.ApplyDefaults()
	c.Fill(destination.Delivery{
		BatchSize: DefaultBatchSize, Linger: DefaultLinger, Timeout: DefaultTimeout,
		Concurrency: DefaultConcurrency, MaxEventAge: MaxEventAgeLimit, Events: DefaultEvents,
		RequestsPerMinute: MaxRequestsPerMinute,
	})
}

// Validate checks the fields without I/O; keys are relative to the block.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !googleapi.IsID(c.CustomerID) {
		add("customer_id", "required: the Google Ads customer id as digits without dashes, not %q", c.CustomerID)
	}
	if c.LoginCustomerID != "" && !googleapi.IsID(c.LoginCustomerID) {
		add("login_customer_id", "must be digits without dashes, not %q", c.LoginCustomerID)
	}
	errs = append(errs, c.ConversionActions.Validate(c.Events)...)
	if n := len(c.Actions()); n > MaxDestinations {
		add("conversion_actions", "at most %d distinct conversion actions per destination, got %d", MaxDestinations, n)
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("endpoint", "must be an http(s) URL, not %q", c.Endpoint)
	}
	if c.DefaultPhoneRegion != "" && !regionRe.MatchString(c.DefaultPhoneRegion) {
		add("default_phone_region", "must be an upper-case ISO-3166 alpha-2 code such as US, not %q", c.DefaultPhoneRegion)
	}
	if b := c.ValueBuckets; !(b.Medium > 0 && b.High > b.Medium) {
		add("customer_value_buckets", "need 0 < medium < high, got medium %v, high %v", b.Medium, b.High)
	}
	errs = append(errs, c.Credentials.Validate()...)
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
		MaxRequestsPerMinute: MaxRequestsPerMinute,
	}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Actions lists the distinct conversion actions the configured events go
// to, sorted: the request's destinations.
func (c Config) Actions() []string { return c.ConversionActions.Actions(c.Events) }
