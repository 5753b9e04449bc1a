package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const googleAdsName = "google_ads"

// Limits and rules of the Google Ads API's conversion uploads
// (platform-apis.md §2).
const (
	googleAdsMaxBodyBytes  = 16 << 20
	googleAdsMaxRows       = 2000
	googleAdsMaxIdentities = 5
	googleAdsMaxAge        = 90 * 24 * time.Hour
	googleAdsDomain        = "googleads.googleapis.com"
	// googleAdsTooRecentPrefix marks a click the sandbox treats as less
	// than six hours old (it cannot know when a made-up click happened):
	// a sandbox-assigned trigger for TOO_RECENT_EVENT.
	googleAdsTooRecentPrefix = "TEST_TOO_RECENT"
)

var (
	googleAdsDateTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}:\d{2}$`)
	googleAdsVersionRe  = regexp.MustCompile(`^v(\d{1,3})$`)
)

// googleAdsAPI emulates ConversionUploadService.UploadClickConversions and
// ConversionAdjustmentUploadService.UploadConversionAdjustments at
// /google_ads/{version}/customers/{customer}:{method}. The real path
// (/{version}/customers/...) would collide with Meta's /{version}/{pixel}/events
// in the sandbox's mux, so only the prefixed form is served.
type googleAdsAPI struct {
	clock  func() time.Time
	oauth  *googleOAuth
	logger *slog.Logger
	recording

	mu sync.Mutex
	// orders and clicks are the accepted conversions' keys, for
	// ORDER_ID_ALREADY_IN_USE, CLICK_CONVERSION_ALREADY_EXISTS and finding
	// an adjustment's conversion; adjusted holds applied adjustments.
	orders, clicks, adjusted map[string]bool
}

func newGoogleAdsAPI(clock func() time.Time, oauth *googleOAuth, logger *slog.Logger, maxRecorded int) *googleAdsAPI {
	a := &googleAdsAPI{clock: clock, oauth: oauth, logger: logger.With("platform", googleAdsName), recording: recording{rec: newRecorder(maxRecorded)}}
	a.resetKeys()
	return a
}

func (a *googleAdsAPI) resetKeys() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.orders, a.clicks, a.adjusted = map[string]bool{}, map[string]bool{}, map[string]bool{}
}

func (a *googleAdsAPI) name() string { return googleAdsName }

func (a *googleAdsAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/google_ads/{version}/customers/{call}", handler: a.serve, unprefixed: true}}
}

func (a *googleAdsAPI) writeFault(w http.ResponseWriter, f Fault) {
	e := faultStatus(f)
	if f.Status == http.StatusTooManyRequests {
		e.extra = []any{adsFailure(adsErr("quotaError", "RESOURCE_EXHAUSTED", "Too many requests", -1, ""))}
	}
	writeRPCStatus(w, e, googleAdsDomain)
}

func (a *googleAdsAPI) reset() { a.recording.reset(); a.resetKeys() }

// adsErr is one GoogleAdsError; row < 0 means no row location.
func adsErr(category, name, msg string, row int, field string) map[string]any {
	e := map[string]any{"errorCode": map[string]string{category: name}, "message": msg}
	if row >= 0 {
		path := []any{map[string]any{"fieldName": "conversions", "index": row}}
		if field != "" {
			path = append(path, map[string]any{"fieldName": field})
		}
		e["location"] = map[string]any{"fieldPathElements": path}
	}
	return e
}

func adsFailure(errs ...map[string]any) map[string]any {
	return map[string]any{"@type": "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure", "errors": errs}
}

// requestFailure is a request-level Google Ads error.
func requestFailure(httpStatus int, status, category, name, msg string) *rpcStatus {
	return &rpcStatus{httpStatus: httpStatus, status: status, reason: name, message: msg,
		extra: []any{adsFailure(adsErr(category, name, msg, -1, ""))}}
}

type adsIdentifier struct {
	HashedEmail       string          `json:"hashedEmail"`
	HashedPhoneNumber string          `json:"hashedPhoneNumber"`
	AddressInfo       *adsAddressInfo `json:"addressInfo"`
}

type adsAddressInfo struct {
	HashedFirstName     string `json:"hashedFirstName"`
	HashedLastName      string `json:"hashedLastName"`
	HashedStreetAddress string `json:"hashedStreetAddress"`
	City                string `json:"city"`
	State               string `json:"state"`
	CountryCode         string `json:"countryCode"`
	PostalCode          string `json:"postalCode"`
}

type adsClickConversion struct {
	Gclid              string          `json:"gclid"`
	Gbraid             string          `json:"gbraid"`
	Wbraid             string          `json:"wbraid"`
	ConversionAction   string          `json:"conversionAction"`
	ConversionDateTime string          `json:"conversionDateTime"`
	ConversionValue    *float64        `json:"conversionValue"`
	CurrencyCode       string          `json:"currencyCode"`
	OrderID            string          `json:"orderId"`
	UserIdentifiers    []adsIdentifier `json:"userIdentifiers"`
	Consent            *struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	} `json:"consent"`
}

type adsAdjustment struct {
	ConversionAction   string `json:"conversionAction"`
	AdjustmentType     string `json:"adjustmentType"`
	AdjustmentDateTime string `json:"adjustmentDateTime"`
	OrderID            string `json:"orderId"`
	GclidDateTimePair  *struct {
		Gclid              string `json:"gclid"`
		ConversionDateTime string `json:"conversionDateTime"`
	} `json:"gclidDateTimePair"`
	RestatementValue *struct {
		AdjustedValue *float64 `json:"adjustedValue"`
		CurrencyCode  string   `json:"currencyCode"`
	} `json:"restatementValue"`
	UserIdentifiers []adsIdentifier `json:"userIdentifiers"`
	UserAgent       string          `json:"userAgent"`
}

type adsUploadRequest struct {
	Conversions           []adsClickConversion `json:"conversions"`
	ConversionAdjustments []adsAdjustment      `json:"conversionAdjustments"`
	PartialFailure        bool                 `json:"partialFailure"`
	ValidateOnly          bool                 `json:"validateOnly"`
	JobID                 *int64               `json:"jobId"`
}

func (a *googleAdsAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, e := a.accept(w, r)
	if e != nil {
		a.rec.log.rejected.Add(1)
		a.logger.Debug("sandbox rejected request", "status", e.status, "reason", e.reason)
		writeRPCStatus(w, e, googleAdsDomain)
		return
	}
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	w.Header().Set("Request-Id", hex.EncodeToString(raw[:]))
	writeJSON(w, http.StatusOK, body)
}

// accept checks the request; row errors go into partialFailureError, the
// rest of the rows are applied (unless validateOnly).
func (a *googleAdsAPI) accept(w http.ResponseWriter, r *http.Request) (map[string]any, *rpcStatus) {
	if !a.oauth.authorize(r) {
		return nil, requestFailure(http.StatusUnauthorized, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_INVALID",
			"The OAuth token in the header is not valid.")
	}
	m := googleAdsVersionRe.FindStringSubmatch(r.PathValue("version"))
	version := 0
	if m != nil {
		version, _ = strconv.Atoi(m[1])
	}
	if version < 19 || version > 24 {
		return nil, &rpcStatus{httpStatus: http.StatusNotFound, status: "NOT_FOUND", reason: "NOT_FOUND", message: "unsupported API version (the sandbox serves v19 to v24)"}
	}
	customer, method, _ := strings.Cut(r.PathValue("call"), ":")
	if !isDigits(customer) || customer == "" {
		return nil, requestFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "INVALID_CUSTOMER_ID", "customer id must be digits")
	}
	if lc := r.Header.Get("login-customer-id"); lc != "" && !isDigits(lc) {
		return nil, requestFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "INVALID_LOGIN_CUSTOMER_ID", "login-customer-id must be digits without dashes")
	}
	if method != "uploadClickConversions" && method != "uploadConversionAdjustments" {
		return nil, &rpcStatus{httpStatus: http.StatusNotFound, status: "NOT_FOUND", reason: "NOT_FOUND", message: "unknown method " + method}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, googleAdsMaxBodyBytes))
	if err != nil {
		return nil, errInvalid("Request payload size exceeds the limit")
	}
	var req adsUploadRequest
	if e := decodeStrict(body, &req); e != nil {
		return nil, e
	}
	if !req.PartialFailure {
		return nil, requestFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "INVALID_INPUT",
			"partial_failure must be true: uploads without partial failure are not supported")
	}
	now := a.clock()
	if method == "uploadClickConversions" {
		if len(req.ConversionAdjustments) > 0 {
			return nil, errInvalid("Invalid JSON payload received. Unknown name \"conversionAdjustments\"")
		}
		return a.uploadClicks(customer, version, req, now)
	}
	if len(req.Conversions) > 0 {
		return nil, errInvalid("Invalid JSON payload received. Unknown name \"conversions\"")
	}
	return a.uploadAdjustments(customer, version, req, now)
}

// rowErrors collects the partial failure's errors.
type rowErrors []map[string]any

func (e *rowErrors) add(category, name, msg string, row int, field string) {
	*e = append(*e, adsErr(category, name, msg, row, field))
}

// clickNamesFor are the version's names of the click errors (renamed in v21).
func clickNamesFor(version int) (tooRecent, expired string) {
	if version < 21 {
		return "TOO_RECENT_CLICK", "EXPIRED_CLICK"
	}
	return "TOO_RECENT_EVENT", "EXPIRED_EVENT"
}

func (a *googleAdsAPI) uploadClicks(customer string, version int, req adsUploadRequest, now time.Time) (map[string]any, *rpcStatus) {
	n := len(req.Conversions)
	if n == 0 || n > googleAdsMaxRows {
		return nil, requestFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "conversionUploadError", "TOO_MANY_CONVERSIONS_IN_REQUEST",
			fmt.Sprintf("a request carries 1 to %d conversions, got %d", googleAdsMaxRows, n))
	}
	tooRecent, expired := clickNamesFor(version)
	var errs rowErrors
	results := make([]any, n)
	var accepted []RecordedEvent
	seenOrders, seenClicks := map[string]bool{}, map[string]bool{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, c := range req.Conversions {
		before := len(errs)
		a.checkAction(c.ConversionAction, customer, i, &errs)
		t, ok := parseAdsTime(c.ConversionDateTime)
		switch {
		case !ok:
			errs.add("dateError", "INVALID_FIELD_VALUES_IN_DATE_TIME", "conversion_date_time must be yyyy-mm-dd hh:mm:ss+|-hh:mm", i, "conversion_date_time")
		case now.Sub(t) > googleAdsMaxAge:
			errs.add("conversionUploadError", expired, "the click is older than the conversion action's lookback window", i, "conversion_date_time")
		}
		ids := 0
		for _, id := range []string{c.Gclid, c.Gbraid, c.Wbraid} {
			if id != "" {
				ids++
			}
		}
		if c.Gbraid != "" && c.Wbraid != "" {
			errs.add("conversionUploadError", "GBRAID_WBRAID_BOTH_SET", "set gbraid or wbraid, not both", i, "wbraid")
		} else if ids > 1 {
			errs.add("conversionUploadError", "GCLID_GBRAID_WBRAID_BOTH_SET", "set one click id", i, "gclid")
		}
		if ids == 0 && len(c.UserIdentifiers) == 0 {
			errs.add("fieldError", "REQUIRED", "a click id or user identifiers are required", i, "gclid")
		}
		checkAdsIdentifiers(c.UserIdentifiers, false, i, &errs)
		if c.CurrencyCode != "" && !isCurrency(c.CurrencyCode) {
			errs.add("fieldError", "INVALID_VALUE", "currency_code must be an upper-case ISO 4217 code", i, "currency_code")
		}
		if cs := c.Consent; cs != nil {
			if cs.AdPersonalization != "" {
				errs.add("fieldError", "VALUE_MUST_BE_UNSET", "ad_personalization cannot be set for click conversions", i, "consent")
			}
			if !slices.Contains([]string{"", "GRANTED", "DENIED"}, cs.AdUserData) {
				errs.add("fieldError", "INVALID_VALUE", "ad_user_data must be GRANTED or DENIED", i, "consent")
			}
		}
		if len(errs) == before && strings.HasPrefix(c.Gclid, googleAdsTooRecentPrefix) {
			errs.add("conversionUploadError", tooRecent, "the click happened less than 6 hours ago; retry later", i, "gclid")
		}
		if len(errs) > before {
			results[i] = map[string]any{}
			continue
		}
		orderKey := customer + "/" + c.ConversionAction + "/" + c.OrderID
		clickKey := customer + "/" + c.ConversionAction + "/" + c.Gclid + c.Gbraid + c.Wbraid + "/" + c.ConversionDateTime
		switch {
		case c.OrderID != "" && seenOrders[orderKey]:
			errs.add("conversionUploadError", "DUPLICATE_ORDER_ID", "the order id appears twice in the request", i, "order_id")
		case c.OrderID != "" && a.orders[orderKey]:
			errs.add("conversionUploadError", "ORDER_ID_ALREADY_IN_USE", "a conversion with this order id was already uploaded", i, "order_id")
		case ids > 0 && seenClicks[clickKey]:
			errs.add("conversionUploadError", "DUPLICATE_CLICK_CONVERSION_IN_REQUEST", "the click and time appear twice in the request", i, "gclid")
		case ids > 0 && a.clicks[clickKey]:
			errs.add("conversionUploadError", "CLICK_CONVERSION_ALREADY_EXISTS", "a conversion for this click and time already exists", i, "gclid")
		}
		if len(errs) > before {
			results[i] = map[string]any{}
			continue
		}
		seenOrders[orderKey], seenClicks[clickKey] = c.OrderID != "", ids > 0
		results[i] = map[string]any{"gclid": c.Gclid, "conversionAction": c.ConversionAction, "conversionDateTime": c.ConversionDateTime}
		accepted = append(accepted, RecordedEvent{Account: customer, EventID: c.OrderID, EventName: "click_conversion", Test: req.ValidateOnly, Raw: rawJSONOf(c), ReceivedAt: now})
	}
	return a.finish(req, results, errs, accepted, seenOrders, seenClicks, nil)
}

func (a *googleAdsAPI) uploadAdjustments(customer string, version int, req adsUploadRequest, now time.Time) (map[string]any, *rpcStatus) {
	n := len(req.ConversionAdjustments)
	if n == 0 || n > googleAdsMaxRows {
		return nil, requestFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "conversionAdjustmentUploadError", "TOO_MANY_ADJUSTMENTS_IN_REQUEST",
			fmt.Sprintf("a request carries 1 to %d adjustments, got %d", googleAdsMaxRows, n))
	}
	var errs rowErrors
	results := make([]any, n)
	var accepted []RecordedEvent
	applied := map[string]bool{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, c := range req.ConversionAdjustments {
		before := len(errs)
		a.checkAction(c.ConversionAction, customer, i, &errs)
		if _, ok := parseAdsTime(c.AdjustmentDateTime); !ok {
			errs.add("dateError", "INVALID_FIELD_VALUES_IN_DATE_TIME", "adjustment_date_time must be yyyy-mm-dd hh:mm:ss+|-hh:mm", i, "adjustment_date_time")
		}
		if (c.OrderID == "") == (c.GclidDateTimePair == nil) {
			errs.add("conversionAdjustmentUploadError", "GCLID_DATE_TIME_PAIR_AND_ORDER_ID_BOTH_SET", "identify the conversion by order_id or gclid_date_time_pair, exactly one", i, "order_id")
		}
		switch c.AdjustmentType {
		case "RESTATEMENT":
			if c.RestatementValue == nil || c.RestatementValue.AdjustedValue == nil {
				errs.add("fieldError", "REQUIRED", "a restatement needs restatement_value.adjusted_value", i, "restatement_value")
			}
		case "RETRACTION":
			if c.RestatementValue != nil {
				errs.add("conversionAdjustmentUploadError", "RESTATEMENT_VALUE_SET_FOR_RETRACTION", "a retraction takes no restatement_value", i, "restatement_value")
			}
		case "ENHANCEMENT":
			if c.OrderID == "" {
				errs.add("fieldError", "REQUIRED", "an enhancement needs order_id", i, "order_id")
			}
			if len(c.UserIdentifiers) == 0 {
				errs.add("fieldError", "REQUIRED", "an enhancement needs user identifiers", i, "user_identifiers")
			}
		default:
			errs.add("fieldError", "INVALID_VALUE", "adjustment_type must be RETRACTION, RESTATEMENT or ENHANCEMENT", i, "adjustment_type")
		}
		checkAdsIdentifiers(c.UserIdentifiers, true, i, &errs)
		if len(errs) > before {
			results[i] = map[string]any{}
			continue
		}
		orderKey := customer + "/" + c.ConversionAction + "/" + c.OrderID
		adjKey := orderKey + "/" + c.AdjustmentType + "/" + c.AdjustmentDateTime
		switch {
		case c.OrderID != "" && !a.orders[orderKey]:
			errs.add("conversionAdjustmentUploadError", "CONVERSION_NOT_FOUND", "no conversion with this order id", i, "order_id")
		case applied[adjKey]:
			errs.add("conversionAdjustmentUploadError", "DUPLICATE_ADJUSTMENT_IN_REQUEST", "the adjustment appears twice in the request", i, "order_id")
		case a.adjusted[adjKey] && c.AdjustmentType == "RETRACTION":
			errs.add("conversionAdjustmentUploadError", "CONVERSION_ALREADY_RETRACTED", "the conversion was already retracted", i, "order_id")
		case a.adjusted[adjKey] && c.AdjustmentType == "RESTATEMENT":
			errs.add("conversionAdjustmentUploadError", "RESTATEMENT_ALREADY_EXISTS", "this restatement was already applied", i, "order_id")
		case a.adjusted[adjKey]:
			errs.add("conversionAdjustmentUploadError", "CONVERSION_ALREADY_ENHANCED", "the conversion was already enhanced", i, "order_id")
		}
		if len(errs) > before {
			results[i] = map[string]any{}
			continue
		}
		applied[adjKey] = true
		results[i] = map[string]any{"orderId": c.OrderID, "conversionAction": c.ConversionAction, "adjustmentType": c.AdjustmentType}
		accepted = append(accepted, RecordedEvent{Account: customer, EventID: c.OrderID + "/" + c.AdjustmentType, EventName: "adjustment", Test: req.ValidateOnly, Raw: rawJSONOf(c), ReceivedAt: now})
	}
	return a.finish(req, results, errs, accepted, nil, nil, applied)
}

// finish records what was accepted (as Test events under validateOnly,
// which applies nothing; the caller holds a.mu) and builds the answer.
func (a *googleAdsAPI) finish(req adsUploadRequest, results []any, errs rowErrors, accepted []RecordedEvent, orders, clicks, adjusted map[string]bool) (map[string]any, *rpcStatus) {
	out := map[string]any{}
	if !req.ValidateOnly {
		for k, v := range orders {
			a.orders[k] = a.orders[k] || v
		}
		for k, v := range clicks {
			a.clicks[k] = a.clicks[k] || v
		}
		for k := range adjusted {
			a.adjusted[k] = true
		}
		out["results"] = results
	}
	if len(accepted) > 0 {
		a.add(accepted)
	}
	if len(errs) > 0 {
		out["partialFailureError"] = map[string]any{
			"code":    3,
			"message": fmt.Sprintf("%d of %d rows failed; see details", len(errs), len(results)),
			"details": []any{adsFailure(errs...)},
		}
	}
	return out, nil
}

// checkAction requires customers/{this customer}/conversionActions/{id}.
func (a *googleAdsAPI) checkAction(name, customer string, i int, errs *rowErrors) {
	rest, ok := strings.CutPrefix(name, "customers/"+customer+"/conversionActions/")
	if !ok || rest == "" || !isDigits(rest) {
		errs.add("conversionUploadError", "NO_CONVERSION_ACTION_FOUND", "conversion_action must be customers/{customer_id}/conversionActions/{id} of this customer", i, "conversion_action")
	}
}

// checkAdsIdentifiers: at most five, one field each, hashes lowercase hex;
// addresses only where allowed (enhancements).
func checkAdsIdentifiers(ids []adsIdentifier, addressAllowed bool, i int, errs *rowErrors) {
	if len(ids) > googleAdsMaxIdentities {
		errs.add("collectionSizeError", "TOO_MANY", "at most 5 user identifiers", i, "user_identifiers")
	}
	for _, id := range ids {
		set := 0
		for _, h := range []string{id.HashedEmail, id.HashedPhoneNumber} {
			if h == "" {
				continue
			}
			set++
			if !isLowerHex64(h) {
				errs.add("conversionUploadError", "INVALID_USER_IDENTIFIER", "hashed identifiers must be SHA-256 as 64 lowercase hex characters", i, "user_identifiers")
			}
		}
		if ai := id.AddressInfo; ai != nil {
			set++
			switch {
			case !addressAllowed:
				errs.add("conversionUploadError", "UNSUPPORTED_USER_IDENTIFIER", "click conversions take only hashed_email and hashed_phone_number", i, "user_identifiers")
			case ai.HashedFirstName != "" && !isLowerHex64(ai.HashedFirstName), ai.HashedLastName != "" && !isLowerHex64(ai.HashedLastName),
				ai.HashedStreetAddress != "" && !isLowerHex64(ai.HashedStreetAddress):
				errs.add("conversionUploadError", "INVALID_USER_IDENTIFIER", "address names and street must be SHA-256 as 64 lowercase hex characters", i, "user_identifiers")
			case looksHashed(ai.CountryCode) || looksHashed(ai.PostalCode) || looksHashed(ai.City) || looksHashed(ai.State):
				errs.add("conversionUploadError", "INVALID_USER_IDENTIFIER", "country, postal code, city and state are sent unhashed", i, "user_identifiers")
			}
		}
		if set != 1 {
			errs.add("fieldError", "INVALID_VALUE", "a user identifier sets exactly one field", i, "user_identifiers")
		}
	}
}

// parseAdsTime parses "yyyy-mm-dd hh:mm:ss[.ffffff]+|-hh:mm".
func parseAdsTime(s string) (time.Time, bool) {
	if !googleAdsDateTimeRe.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999-07:00", s)
	return t, err == nil
}
