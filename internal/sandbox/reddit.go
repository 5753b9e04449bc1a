package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

const redditName = "reddit"

// The Reddit Conversions API v3 contract (platform-apis.md §7).
const (
	redditMaxBodyBytes = 8 << 20
	redditMaxBatch     = 1000
	redditMaxEventAge  = 7 * 24 * time.Hour
	redditFutureSkew   = 5 * time.Minute
)

var (
	redditPixelRe    = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	redditCurrencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	redditSources    = map[string]bool{"WEBSITE": true, "APP": true, "OTHER": true, "PHYSICAL_STORE": true}
	redditTypes      = map[string]bool{"PAGE_VISIT": true, "VIEW_CONTENT": true, "SEARCH": true, "ADD_TO_CART": true,
		"ADD_TO_WISHLIST": true, "PURCHASE": true, "LEAD": true, "SIGN_UP": true, "CUSTOM": true}
	// redditHashed are the user keys Reddit takes only as SHA-256.
	redditHashed = []string{"email", "phone_number", "external_id", "ip_address", "idfa", "aaid"}
	// redditMatchKeys are the keys of which an event needs at least one
	// (besides click_id).
	redditMatchKeys = []string{"email", "phone_number", "external_id", "ip_address", "idfa", "aaid", "uuid"}
)

// redditAPI emulates POST /api/v3/pixels/{pixel}/conversion_events.
type redditAPI struct{ bearerEmulator }

func newRedditAPI(e emulatorEnv) platform {
	return &redditAPI{newBearerEmulator(e, redditName)}
}

// Reddit returns the recorder of the events the Reddit emulator accepted.
func (s *Server) Reddit() *Recorder { return emulator[*redditAPI](s, redditName).rec }

func (rd *redditAPI) name() string { return redditName }

func (rd *redditAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/api/v3/pixels/{pixel}/conversion_events", handler: rd.serve}}
}

// redditError is the Ads API v3 error: {"error":{code, message, details}};
// details name invalid events by index.
type redditError struct {
	status  int
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details []redditDetail `json:"details,omitempty"`
}

// redditDetail names one invalid event and field.
type redditDetail struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func writeRedditError(w http.ResponseWriter, e *redditError) {
	w.Header().Set("X-Request-Id", newTraceID())
	writeJSON(w, e.status, map[string]any{"error": e})
}

func (rd *redditAPI) writeFault(w http.ResponseWriter, f Fault) {
	code := faultCode(f.Status, "RATE_LIMITED", "UNAUTHORIZED", "FORBIDDEN", "INVALID_REQUEST", "INTERNAL_ERROR")
	writeRedditError(w, &redditError{status: f.Status, Code: code, Message: "injected by the signalpipe sandbox (HTTP " + strconv.Itoa(f.Status) + ")"})
}

func redditBad(format string, args ...any) *redditError {
	return &redditError{status: http.StatusBadRequest, Code: "INVALID_REQUEST", Message: fmt.Sprintf(format, args...)}
}

func (rd *redditAPI) serve(w http.ResponseWriter, r *http.Request) {
	n, rerr := rd.accept(w, r)
	if rerr != nil {
		rd.rec.log.rejected.Add(1)
		rd.logger.Debug("sandbox rejected request", "status", rerr.status, "code", rerr.Code, "reason", rerr.Message)
		writeRedditError(w, rerr)
		return
	}
	w.Header().Set("X-Request-Id", newTraceID())
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"message": "Successfully processed " + strconv.Itoa(n) + " conversion events."}})
}

// accept checks the request; a request with any invalid event is refused as
// a whole, its details naming every invalid event, and nothing is recorded.
func (rd *redditAPI) accept(w http.ResponseWriter, r *http.Request) (int, *redditError) {
	now := rd.clock()
	switch checkBearer(r, rd.token) {
	case bearerMissing:
		return 0, &redditError{status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "missing bearer token"}
	case bearerWrong:
		return 0, &redditError{status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "invalid conversion access token"}
	}
	pixel := r.PathValue("pixel")
	if !redditPixelRe.MatchString(pixel) {
		return 0, &redditError{status: http.StatusNotFound, Code: "NOT_FOUND", Message: "pixel not found"}
	}
	if !isJSONContent(r) {
		return 0, &redditError{status: http.StatusUnsupportedMediaType, Code: "UNSUPPORTED_MEDIA_TYPE", Message: "Content-Type must be application/json"}
	}
	body, tooLarge, err := readBody(w, r, redditMaxBodyBytes)
	switch {
	case tooLarge:
		return 0, &redditError{status: http.StatusRequestEntityTooLarge, Code: "PAYLOAD_TOO_LARGE", Message: "request body too large"}
	case err != nil:
		return 0, redditBad("reading the request body failed")
	}
	var req struct {
		Data *struct {
			TestID *string           `json:"test_id"`
			Events []json.RawMessage `json:"events"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Data == nil {
		return 0, redditBad(`the body must be {"data":{"events":[...]}}`)
	}
	if n := len(req.Data.Events); n == 0 || n > redditMaxBatch {
		return 0, redditBad("data.events must hold 1 to %d events, got %d", redditMaxBatch, n)
	}
	test := req.Data.TestID != nil
	if test && *req.Data.TestID == "" {
		return 0, redditBad("data.test_id must not be empty")
	}
	recs := make([]RecordedEvent, len(req.Data.Events))
	var details []redditDetail
	for i, raw := range req.Data.Events {
		rec, field, msg := checkRedditEvent(raw, now)
		if msg != "" {
			details = append(details, redditDetail{Index: i, Field: "data.events[" + strconv.Itoa(i) + "]" + field, Message: msg})
			continue
		}
		rec.Account, rec.Test, rec.ReceivedAt = pixel, test, now
		recs[i] = rec
	}
	if len(details) > 0 {
		return 0, &redditError{status: http.StatusBadRequest, Code: "INVALID_EVENTS",
			Message: strconv.Itoa(len(details)) + " of " + strconv.Itoa(len(recs)) + " events are invalid", Details: details}
	}
	rd.add(recs)
	return len(recs), nil
}

// checkRedditEvent checks one event; on failure it returns the field path
// (".user.email") and the rule broken, never a value.
func checkRedditEvent(raw json.RawMessage, now time.Time) (rec RecordedEvent, field, msg string) {
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil || ev == nil {
		return rec, "", "must be an object"
	}
	at, ok := ev["event_at"].(json.Number)
	ms, err := at.Int64()
	switch {
	case !ok || err != nil:
		return rec, ".event_at", "required, epoch milliseconds as an integer"
	case ms < 1e12:
		return rec, ".event_at", "must be epoch milliseconds"
	case now.Sub(time.UnixMilli(ms)) > redditMaxEventAge:
		return rec, ".event_at", "event is older than 7 days"
	case time.UnixMilli(ms).Sub(now) > redditFutureSkew:
		return rec, ".event_at", "event is more than 5 minutes in the future"
	}
	if s, _ := ev["action_source"].(string); !redditSources[s] {
		return rec, ".action_source", "required, one of WEBSITE, APP, OTHER, PHYSICAL_STORE"
	}
	typ, _ := ev["type"].(map[string]any)
	tt, _ := typ["tracking_type"].(string)
	if !redditTypes[tt] {
		return rec, ".type.tracking_type", "required, a Reddit tracking type"
	}
	name := tt
	if tt == "CUSTOM" {
		custom, _ := typ["custom_event_name"].(string)
		if custom == "" {
			return rec, ".type.custom_event_name", "required for CUSTOM events"
		}
		name = custom
	}
	user, ok := ev["user"].(map[string]any)
	if !ok {
		user = map[string]any{}
	}
	for _, k := range redditHashed {
		if v, present := user[k]; present {
			if s, _ := v.(string); !sha256HexRe.MatchString(s) {
				return rec, ".user." + k, "must be the lowercase hex SHA-256 of the normalized value"
			}
		}
	}
	if ua, present := user["user_agent"]; present {
		if _, ok := ua.(string); !ok {
			return rec, ".user.user_agent", "must be a string"
		}
	}
	hasKey := false
	if c, _ := ev["click_id"].(string); c != "" {
		hasKey = true
	}
	for _, k := range redditMatchKeys {
		if s, _ := user[k].(string); s != "" {
			hasKey = true
		}
	}
	if !hasKey {
		return rec, ".user", "at least one match key is required (click_id, email, phone_number, external_id, ip_address, uuid, idfa or aaid)"
	}
	var convID string
	if md, present := ev["metadata"]; present {
		m, ok := md.(map[string]any)
		if !ok {
			return rec, ".metadata", "must be an object"
		}
		if v, present := m["conversion_id"]; present {
			if convID, ok = v.(string); !ok {
				return rec, ".metadata.conversion_id", "must be a string"
			}
		}
		if v, present := m["value"]; present {
			if _, ok := v.(json.Number); !ok {
				return rec, ".metadata.value", "must be a number"
			}
		}
		if v, present := m["currency"]; present {
			if s, _ := v.(string); !redditCurrencyRe.MatchString(s) {
				return rec, ".metadata.currency", "must be an upper-case ISO 4217 code"
			}
		}
		if v, present := m["item_count"]; present {
			if n, ok := v.(json.Number); !ok || !isDigits(n.String()) {
				return rec, ".metadata.item_count", "must be a non-negative integer"
			}
		}
	}
	return RecordedEvent{EventID: convID, EventName: name, Raw: compactJSON(raw)}, "", ""
}
