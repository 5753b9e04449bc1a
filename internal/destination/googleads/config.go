// Package googleads is the Google Ads API destination (type google_ads), the
// alternative to the Data Manager path (package google): it uploads click
// conversions with ConversionUploadService.UploadClickConversions, or, for an
// entry with upload: adjustments, retracts, restates or enhances earlier
// conversions with ConversionAdjustmentUploadService.UploadConversionAdjustments,
// both over REST:
//
//	POST {endpoint}/{api_version}/customers/{customer_id}:uploadClickConversions
//	POST {endpoint}/{api_version}/customers/{customer_id}:uploadConversionAdjustments
//	Authorization: Bearer <OAuth 2.0 access token, scope adwords>
//	developer-token: <$developer_token_env>     (when set; Google sunset the token, the header is ignored)
//	login-customer-id: <login_customer_id>      (when acting through a manager account)
//	{"conversions": [...], "partialFailure": true, "validateOnly": <validate_only>}
//
// partialFailure is always true (Google requires it): the answer is HTTP 200
// with one entry of results per row, empty for failed rows, and a
// partialFailureError whose GoogleAdsFailure errors locate the failed rows
// (conversions[i]). Each event gets its own result (see errors.go):
// CLICK_CONVERSION_ALREADY_EXISTS and ORDER_ID_ALREADY_IN_USE (and the
// adjustment duplicates) are Delivered; TOO_RECENT_* is Retry after six
// hours; the rest is Rejected with the error's name as reason. Error names
// change between API versions (v21 renamed TOO_RECENT_CLICK, EXPIRED_CLICK
// and CLICK_NOT_FOUND to TOO_RECENT_EVENT, EXPIRED_EVENT and
// EVENT_NOT_FOUND); classify reads the names of the configured version.
//
// # Decisions
//
//   - conversionDateTime is written in UTC ("2026-11-20 10:00:00+00:00"):
//     Google needs an offset, not the account's zone.
//   - orderId is the order id, else the event id, so a resent event meets
//     ORDER_ID_ALREADY_IN_USE, which counts as delivered.
//   - Only hashedEmail and hashedPhoneNumber go with click conversions (the
//     proto allows no other identifier there); enhancements also carry the
//     hashed names, street and the plain address parts.
//   - The gclid wins over gbraid/wbraid; without it gbraid for app events,
//     wbraid for web ones (Google refuses both braids).
//   - consent.adUserData comes from the event's ad_user_data consent;
//     adPersonalization is not allowed on these calls and is never sent.
//   - Adjustments: the canonical events have no refund or order-update name,
//     so an entry with upload: adjustments maps the canonical names it
//     receives to an adjustment type with adjustment_types (for example
//     closed_deal: RESTATEMENT restates the lead's value at the deal's value,
//     keyed by order id). The original conversion is named by order id (the
//     gclid+time pair would need the original conversion's time, which the
//     event does not carry), so events without an order id are rejected.
//   - Maximum event age 90 days (the longest click lookback).
//   - No value signals: customer_type is allow-listed (an account not on
//     the list has the upload refused) and there is no value-bucket field;
//     the google type (Data Manager userProperties) carries them.
package googleads

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Config is one Google Ads customer to upload to.
type Config struct {
	// Name is the destination's name (default "google_ads").
	Name string `yaml:"-"`
	// CustomerID is the Google Ads customer, digits without dashes.
	CustomerID string `yaml:"customer_id"`
	// LoginCustomerID is sent as login-customer-id when set.
	LoginCustomerID string `yaml:"login_customer_id"`
	// DeveloperTokenEnv names the variable of the developer token, sent as
	// developer-token when set.
	DeveloperTokenEnv string `yaml:"developer_token_env"`
	// APIVersion is the Google Ads API version, e.g. v21.
	APIVersion string `yaml:"api_version"`
	// Endpoint is the API base URL; the sandbox's (…/google_ads) in tests.
	Endpoint string `yaml:"endpoint"`
	// ConversionActions: conversion_action_id, and conversion_actions per
	// canonical event name.
	googleapi.ConversionActions `yaml:",inline"`
	// Upload is click_conversions (default) or adjustments.
	Upload string `yaml:"upload"`
	// AdjustmentTypes maps canonical event names to RETRACTION, RESTATEMENT
	// or ENHANCEMENT; required with upload: adjustments.
	AdjustmentTypes map[string]string `yaml:"adjustment_types"`
	// ValidateOnly makes Google check uploads without applying them.
	ValidateOnly bool `yaml:"validate_only"`
	// DefaultPhoneRegion is used for phone numbers without a country code.
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// Credentials: service_account_key_file, or the refresh-token variables.
	googleapi.Credentials `yaml:",inline"`
	// Delivery: batch_size (≤ 2,000), linger, timeout, concurrency,
	// max_event_age (≤ 90 days), events.
	destination.Delivery `yaml:",inline"`
}

// Named defaults and limits.
const (
	DefaultName        = "google_ads"
	DefaultEndpoint    = "https://googleads.googleapis.com"
	DefaultAPIVersion  = "v21"
	Scope              = "https://www.googleapis.com/auth/adwords"
	DefaultBatchSize   = 2000
	MaxBatchSize       = 2000
	DefaultLinger      = time.Second
	MaxLinger          = time.Minute
	DefaultTimeout     = 30 * time.Second
	DefaultConcurrency = 2
	MaxConcurrency     = 16
	MaxEventAgeLimit   = 90 * 24 * time.Hour
	// TooRecentDelay is how long Google asks to wait after TOO_RECENT_*.
	TooRecentDelay = 6 * time.Hour
	// MaxUserIdentifiers is how many identifiers a row may carry.
	MaxUserIdentifiers = 5
)

// Upload kinds.
const (
	UploadClickConversions = "click_conversions"
	UploadAdjustments      = "adjustments"
)

// The adjustment types.
const (
	Retraction  = "RETRACTION"
	Restatement = "RESTATEMENT"
	Enhancement = "ENHANCEMENT"
)

// DefaultEvents are the conversions uploaded when events is empty.
var DefaultEvents = []string{event.NamePurchase, event.NameLead, event.NameSignUp, event.NameQualifiedLead, event.NameClosedDeal}

var (
	versionRe  = regexp.MustCompile(`^v([0-9]{1,3})$`)
	regionRe   = regexp.MustCompile(`^[A-Z]{2}$`)
	adjustment = []string{Retraction, Restatement, Enhancement}
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
	if c.Upload == "" {
		c.Upload = UploadClickConversions
	}
	c.Credentials.ApplyDefaults()
	def := DefaultEvents
	if c.Upload == UploadAdjustments {
		def = slices.Sorted(maps.Keys(c.AdjustmentTypes))
	}
	c.Fill(destination.Delivery{
		BatchSize: DefaultBatchSize, Linger: DefaultLinger, Timeout: DefaultTimeout,
		Concurrency: DefaultConcurrency, MaxEventAge: MaxEventAgeLimit, Events: def,
	})
}

// Validate checks the fields without I/O.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !googleapi.IsID(c.CustomerID) {
		add("customer_id", "required: the customer id as digits without dashes, not %q", c.CustomerID)
	}
	if c.LoginCustomerID != "" && !googleapi.IsID(c.LoginCustomerID) {
		add("login_customer_id", "must be digits without dashes, not %q", c.LoginCustomerID)
	}
	if c.DeveloperTokenEnv != "" && !destination.ValidEnvName(c.DeveloperTokenEnv) {
		add("developer_token_env", "%q is not an environment variable name (put the token in the environment, not in the file)", c.DeveloperTokenEnv)
	}
	if !versionRe.MatchString(c.APIVersion) {
		add("api_version", "must look like v21, not %q", c.APIVersion)
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("endpoint", "must be an http(s) URL, not %q", c.Endpoint)
	}
	switch c.Upload {
	case UploadClickConversions:
		if len(c.AdjustmentTypes) > 0 {
			add("adjustment_types", "only with upload: adjustments")
		}
	case UploadAdjustments:
		for _, name := range slices.Sorted(maps.Keys(c.AdjustmentTypes)) {
			if !slices.Contains(adjustment, c.AdjustmentTypes[name]) {
				add("adjustment_types."+name, "must be RETRACTION, RESTATEMENT or ENHANCEMENT, not %q", c.AdjustmentTypes[name])
			}
		}
		for _, e := range c.Events {
			if _, ok := c.AdjustmentTypes[e]; !ok {
				add("events", "%q has no adjustment type (add it to adjustment_types)", e)
			}
		}
	default:
		add("upload", "must be click_conversions or adjustments, not %q", c.Upload)
	}
	errs = append(errs, c.ConversionActions.Validate(c.Events)...)
	if c.DefaultPhoneRegion != "" && !regionRe.MatchString(c.DefaultPhoneRegion) {
		add("default_phone_region", "must be an upper-case ISO-3166 alpha-2 code such as US, not %q", c.DefaultPhoneRegion)
	}
	errs = append(errs, c.Credentials.Validate()...)
	if err := c.Delivery.Validate(destination.DeliveryLimits{
		MaxBatch: MaxBatchSize, MaxEventAge: MaxEventAgeLimit, MaxConcurrency: MaxConcurrency, MaxLinger: MaxLinger,
	}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// version is the API version's number (21 for v21).
func (c Config) version() int {
	m := versionRe.FindStringSubmatch(c.APIVersion)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// method is the REST method the entry calls.
func (c Config) method() string {
	if c.Upload == UploadAdjustments {
		return "uploadConversionAdjustments"
	}
	return "uploadClickConversions"
}
