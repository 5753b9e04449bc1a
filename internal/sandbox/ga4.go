package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

const ga4Name = "ga4"

// Limits of the GA4 Measurement Protocol (platform-apis.md §2c).
const (
	ga4MaxBodyBytes = 130 * 1000
	ga4MaxEvents    = 25
	ga4MaxParams    = 25
	ga4MaxUserProps = 25
	// User property names and string values are shorter than params'.
	ga4MaxUserPropNameLen  = 24
	ga4MaxUserPropValueLen = 36
	ga4MaxNameLen          = 40
	ga4MaxParamValueLen    = 100
	ga4MaxBackdate         = 72 * time.Hour
	ga4FutureSkew          = 5 * time.Minute
)

var (
	ga4NameRe          = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	ga4MeasurementIDRe = regexp.MustCompile(`^G-[A-Z0-9]+$`)
	ga4AppInstanceRe   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	// ga4Reserved are event names GA4 reserves for itself.
	ga4Reserved = []string{"ad_activeview", "ad_click", "ad_exposure", "ad_query", "ad_reward", "adunit_exposure",
		"app_clear_data", "app_exception", "app_install", "app_remove", "app_store_refund", "app_update",
		"app_upgrade", "dynamic_link_app_open", "dynamic_link_app_update", "dynamic_link_first_open",
		"error", "first_open", "first_visit", "in_app_purchase", "notification_dismiss", "notification_foreground",
		"notification_open", "notification_receive", "os_update", "session_start", "session_start_with_rollout",
		"user_engagement"}
	// ga4ReservedUserProps are user property names GA4 reserves.
	ga4ReservedUserProps = []string{"first_open_time", "first_visit_time", "last_deep_link_referrer", "user_id", "first_open_after_install"}
	ga4ReservedPrefixes  = []string{"_", "firebase_", "ga_", "google_", "gtag."}
)

// ga4API emulates POST /mp/collect and the validation server at
// /debug/mp/collect. Like GA4, the collection endpoint answers 204 to
// everything with a stream id and secret and silently drops invalid
// requests (counted as rejected, not recorded); the validation server
// answers 200 with validationMessages and records a valid request's events
// as Test events (GA4 itself stores nothing there).
type ga4API struct {
	clock  func() time.Time
	secret string // empty: any non-empty api_secret
	logger *slog.Logger
	recording
}

func newGA4API(clock func() time.Time, secret string, logger *slog.Logger, maxRecorded int) *ga4API {
	return &ga4API{clock: clock, secret: secret, logger: logger.With("platform", ga4Name), recording: recording{rec: newRecorder(maxRecorded)}}
}

func (g *ga4API) name() string { return ga4Name }

func (g *ga4API) routes() []route {
	return []route{
		{method: http.MethodPost, path: "/mp/collect", handler: g.serveCollect},
		{method: http.MethodPost, path: "/debug/mp/collect", handler: g.serveValidate},
	}
}

// writeFault: GA4's front end answers faults with a plain status.
func (g *ga4API) writeFault(w http.ResponseWriter, f Fault) {
	http.Error(w, http.StatusText(f.Status), f.Status)
}

type ga4Message struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}

type ga4Request struct {
	ClientID        string                     `json:"client_id"`
	AppInstanceID   string                     `json:"app_instance_id"`
	UserID          string                     `json:"user_id"`
	TimestampMicros *int64                     `json:"timestamp_micros"`
	UserProperties  map[string]json.RawMessage `json:"user_properties"`
	Consent         *struct {
		AdUserData        string `json:"ad_user_data"`
		AdPersonalization string `json:"ad_personalization"`
	} `json:"consent"`
	UserData *struct {
		SHA256EmailAddress []string `json:"sha256_email_address"`
		SHA256PhoneNumber  []string `json:"sha256_phone_number"`
		Address            []struct {
			SHA256FirstName string `json:"sha256_first_name"`
			SHA256LastName  string `json:"sha256_last_name"`
			SHA256Street    string `json:"sha256_street"`
			City            string `json:"city"`
			Region          string `json:"region"`
			PostalCode      string `json:"postal_code"`
			Country         string `json:"country"`
		} `json:"address"`
	} `json:"user_data"`
	NonPersonalizedAds bool       `json:"non_personalized_ads"`
	ValidationBehavior string     `json:"validation_behavior"`
	Events             []ga4Event `json:"events"`
}

type ga4Event struct {
	Name            string                     `json:"name"`
	TimestampMicros *int64                     `json:"timestamp_micros"`
	Params          map[string]json.RawMessage `json:"params"`
}

// check reads the request and returns the stream id, the request and the
// validation messages (none when valid). Query problems come first: without
// a stream id and secret GA4 answers 4xx even on the collection endpoint.
func (g *ga4API) check(w http.ResponseWriter, r *http.Request, validating bool) (string, *ga4Request, []ga4Message, int) {
	q := r.URL.Query()
	stream := q.Get("measurement_id")
	app := q.Get("firebase_app_id")
	if (stream == "") == (app == "") || (stream != "" && !ga4MeasurementIDRe.MatchString(stream)) {
		return "", nil, nil, http.StatusBadRequest
	}
	if app != "" {
		stream = app
	}
	// The validation server does not check the secret (GA4 says so).
	if sec := q.Get("api_secret"); !validating && (sec == "" || g.secret != "" && subtle.ConstantTimeCompare([]byte(sec), []byte(g.secret)) != 1) {
		return "", nil, nil, http.StatusForbidden
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ga4MaxBodyBytes))
	if err != nil {
		return stream, nil, nil, http.StatusRequestEntityTooLarge
	}
	var req ga4Request
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return stream, nil, []ga4Message{{FieldPath: "", Description: "Unable to parse the request body as JSON.", ValidationCode: "VALUE_INVALID"}}, 0
	}
	return stream, &req, checkGA4(&req, app != "", g.clock()), 0
}

// checkGA4 applies the Measurement Protocol's rules.
func checkGA4(req *ga4Request, app bool, now time.Time) []ga4Message {
	var msgs []ga4Message
	bad := func(path, code, format string, args ...any) {
		msgs = append(msgs, ga4Message{FieldPath: path, Description: fmt.Sprintf(format, args...), ValidationCode: code})
	}
	switch {
	case app && req.AppInstanceID == "":
		bad("app_instance_id", "VALUE_REQUIRED", "app_instance_id is required for a firebase_app_id stream")
	case app && !ga4AppInstanceRe.MatchString(req.AppInstanceID):
		bad("app_instance_id", "VALUE_INVALID", "app_instance_id must be 32 hexadecimal characters")
	case !app && req.ClientID == "":
		bad("client_id", "VALUE_REQUIRED", "client_id is required for a measurement_id stream")
	}
	if len(req.UserProperties) > ga4MaxUserProps {
		bad("user_properties", "EXCEEDED_MAX_ENTITIES", "at most %d user properties", ga4MaxUserProps)
	}
	for name, raw := range req.UserProperties {
		checkGA4UserProperty(name, raw, bad)
	}
	if c := req.Consent; c != nil {
		for _, v := range []struct{ k, v string }{{"ad_user_data", c.AdUserData}, {"ad_personalization", c.AdPersonalization}} {
			if v.v != "" && v.v != "GRANTED" && v.v != "DENIED" {
				bad("consent."+v.k, "VALUE_INVALID", "must be GRANTED or DENIED")
			}
		}
	}
	if u := req.UserData; u != nil {
		for _, h := range append(append([]string{}, u.SHA256EmailAddress...), u.SHA256PhoneNumber...) {
			if !isLowerHex64(h) {
				bad("user_data", "VALUE_INVALID", "sha256_email_address and sha256_phone_number must be SHA-256 hex digests")
				break
			}
		}
		for i, a := range u.Address {
			for _, h := range []string{a.SHA256FirstName, a.SHA256LastName, a.SHA256Street} {
				if h != "" && !isLowerHex64(h) {
					bad(fmt.Sprintf("user_data.address[%d]", i), "VALUE_INVALID", "sha256_ fields must be SHA-256 hex digests")
				}
			}
			for _, p := range []string{a.City, a.Region, a.PostalCode, a.Country} {
				if looksHashed(p) {
					bad(fmt.Sprintf("user_data.address[%d]", i), "VALUE_INVALID", "city, region, postal_code and country are sent unhashed")
				}
			}
		}
	}
	switch n := len(req.Events); {
	case n == 0:
		bad("events", "VALUE_REQUIRED", "at least one event is required")
	case n > ga4MaxEvents:
		bad("events", "EXCEEDED_MAX_ENTITIES", "at most %d events per request, got %d", ga4MaxEvents, n)
		return msgs
	}
	for i, e := range req.Events {
		at := func(format string, args ...any) string {
			return fmt.Sprintf("Event at index: [%d] ", i) + fmt.Sprintf(format, args...)
		}
		switch {
		case e.Name == "":
			bad("events", "VALUE_REQUIRED", "%s", at("has no name."))
		case len(e.Name) > ga4MaxNameLen:
			bad("events", "VALUE_OUT_OF_BOUNDS", "%s", at("has a name longer than %d characters.", ga4MaxNameLen))
		case !ga4NameRe.MatchString(e.Name):
			bad("events", "NAME_INVALID", "%s", at("has invalid name [%s]. Names must start with an alphabetic character and hold only letters, digits and underscores.", e.Name))
		case isGA4Reserved(e.Name):
			bad("events", "NAME_RESERVED", "%s", at("has reserved name [%s].", e.Name))
		}
		ts := req.TimestampMicros
		if e.TimestampMicros != nil {
			ts = e.TimestampMicros
		}
		if ts != nil {
			t := time.UnixMicro(*ts)
			if now.Sub(t) > ga4MaxBackdate {
				bad("events", "VALUE_OUT_OF_BOUNDS", "%s", at("has a timestamp_micros more than 72 hours in the past."))
			} else if t.Sub(now) > ga4FutureSkew {
				bad("events", "VALUE_OUT_OF_BOUNDS", "%s", at("has a timestamp_micros in the future."))
			}
		}
		if len(e.Params) > ga4MaxParams {
			bad("events", "EXCEEDED_MAX_ENTITIES", "%s", at("has more than %d params.", ga4MaxParams))
		}
		for k, v := range e.Params {
			if len(k) > ga4MaxNameLen || !ga4NameRe.MatchString(k) {
				bad("events", "NAME_INVALID", "%s", at("has an invalid param name."))
			}
			var s string
			if json.Unmarshal(v, &s) == nil && len(s) > ga4MaxParamValueLen && k != "items" {
				bad("events", "VALUE_OUT_OF_BOUNDS", "%s", at("has param [%s] longer than %d characters.", k, ga4MaxParamValueLen))
			}
		}
		if v, ok := e.Params["value"]; ok {
			var f float64
			if json.Unmarshal(v, &f) != nil {
				bad("events", "VALUE_INVALID", "%s", at("has a value that is not a number."))
			}
			var cur string
			if json.Unmarshal(e.Params["currency"], &cur) != nil || !isCurrency(cur) {
				bad("events", "VALUE_REQUIRED", "%s", at("has a value without an upper-case ISO 4217 currency."))
			}
		}
	}
	return msgs
}

// checkGA4UserProperty: a name of at most 24 characters, not reserved,
// and {"value": a string of at most 36 characters or a number}.
func checkGA4UserProperty(name string, raw json.RawMessage, bad func(path, code, format string, args ...any)) {
	switch {
	case len(name) > ga4MaxUserPropNameLen || !ga4NameRe.MatchString(name):
		bad("user_properties", "NAME_INVALID", "user property name [%s] must be at most %d letters, digits and underscores", name, ga4MaxUserPropNameLen)
	case isGA4Reserved(name) || slices.Contains(ga4ReservedUserProps, name):
		bad("user_properties", "NAME_RESERVED", "user property name [%s] is reserved", name)
	}
	var p struct {
		Value json.RawMessage `json:"value"`
	}
	var s string
	var f float64
	switch {
	case json.Unmarshal(raw, &p) != nil || len(p.Value) == 0:
		bad("user_properties", "VALUE_INVALID", "user property [%s] must be an object with a value", name)
	case json.Unmarshal(p.Value, &s) == nil:
		if len(s) > ga4MaxUserPropValueLen {
			bad("user_properties", "VALUE_OUT_OF_BOUNDS", "user property [%s] is longer than %d characters", name, ga4MaxUserPropValueLen)
		}
	case json.Unmarshal(p.Value, &f) != nil:
		bad("user_properties", "VALUE_INVALID", "user property [%s] must be a string or a number", name)
	}
}

func isGA4Reserved(name string) bool {
	for _, p := range ga4ReservedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, r := range ga4Reserved {
		if name == r {
			return true
		}
	}
	return false
}

func (g *ga4API) serveCollect(w http.ResponseWriter, r *http.Request) {
	stream, req, msgs, status := g.check(w, r, false)
	if status != 0 {
		g.rec.log.rejected.Add(1)
		http.Error(w, http.StatusText(status), status)
		return
	}
	if len(msgs) > 0 {
		// GA4 drops what it cannot use and still answers 2xx.
		g.rec.log.rejected.Add(1)
		g.logger.Debug("sandbox dropped an invalid request", "messages", len(msgs), "first", msgs[0].ValidationCode)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	g.record(stream, req, false)
	w.WriteHeader(http.StatusNoContent)
}

func (g *ga4API) serveValidate(w http.ResponseWriter, r *http.Request) {
	stream, req, msgs, status := g.check(w, r, true)
	if status != 0 {
		g.rec.log.rejected.Add(1)
		http.Error(w, http.StatusText(status), status)
		return
	}
	if len(msgs) == 0 {
		g.record(stream, req, true)
	} else {
		msgs = append([]ga4Message{}, msgs...)
	}
	if msgs == nil {
		msgs = []ga4Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"validationMessages": msgs})
}

// record stores a valid request's events, one each, with the request's
// client and user; test marks the validation server's.
func (g *ga4API) record(stream string, req *ga4Request, test bool) {
	now := g.clock()
	evs := make([]RecordedEvent, len(req.Events))
	for i, e := range req.Events {
		var txn string
		_ = json.Unmarshal(e.Params["transaction_id"], &txn)
		raw := map[string]any{"client_id": req.ClientID + req.AppInstanceID, "user_id": req.UserID, "event": e}
		if req.UserData != nil {
			raw["user_data"] = req.UserData
		}
		evs[i] = RecordedEvent{Account: stream, EventID: txn, EventName: e.Name, Test: test, Raw: rawJSONOf(raw), ReceivedAt: now}
	}
	g.add(evs)
}
