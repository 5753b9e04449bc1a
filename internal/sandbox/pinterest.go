package sandbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

const pinterestName = "pinterest"

// Limits of Pinterest's Conversions API v5 as the emulator enforces them
// (platform-apis.md §5; the destination's package doc says which are our
// decisions on unconfirmed points).
const (
	pinterestMaxEvents  = 1000
	pinterestMaxAge     = 7 * 24 * time.Hour
	pinterestFutureSkew = 5 * time.Minute
)

// Pinterest error codes: 953 for invalid events is Pinterest's [3p issue];
// the others follow Pinterest's v5 envelope with sandbox-assigned numbers.
const (
	pinterestCodeInvalid      = 1
	pinterestCodeAuth         = 2
	pinterestCodeThrottled    = 8
	pinterestCodeForbidden    = 29
	pinterestCodeEvents       = 953
	pinterestCodeServerFailed = 3
)

var (
	pinterestEventNames    = []string{"add_to_cart", "checkout", "custom", "lead", "page_visit", "search", "signup", "view_category", "watch_video"}
	pinterestActionSources = []string{"web", "app_android", "app_ios", "offline"}
	pinterestHashedKeys    = []string{"em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id", "hashed_maids"}
)

// pinterestAPI emulates POST /v5/ad_accounts/{ad_account_id}/events.
type pinterestAPI struct {
	recording
	clock  func() time.Time
	tokens accountTokens
	logger *slog.Logger
}

func newPinterestAPI(e emulatorEnv) *pinterestAPI {
	return &pinterestAPI{recording: recording{rec: newRecorder(e.maxRecorded)}, clock: e.clock,
		tokens: newAccountTokens(e.opts.PinterestTokens, e.opts.BearerTokens[pinterestName]), logger: e.logger.With("platform", pinterestName)}
}

func (p *pinterestAPI) name() string { return pinterestName }

func (p *pinterestAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/v5/ad_accounts/{ad_account_id}/events", handler: p.serveEvents}}
}

func (p *pinterestAPI) writeFault(w http.ResponseWriter, f Fault) {
	code := pinterestCodeInvalid
	switch {
	case f.Status == http.StatusTooManyRequests:
		code = pinterestCodeThrottled
	case f.Status >= 500:
		code = pinterestCodeServerFailed
	case f.Status == http.StatusUnauthorized:
		code = pinterestCodeAuth
	case f.Status == http.StatusForbidden:
		code = pinterestCodeForbidden
	}
	writeJSON(w, f.Status, map[string]any{"code": code, "message": fmt.Sprintf("injected by the signalpipe sandbox (HTTP %d)", f.Status)})
}

// pinterestStatus is one entry of an answer's events[].
type pinterestStatus struct {
	Status         string `json:"status"`
	ErrorMessage   string `json:"error_message"`
	WarningMessage string `json:"warning_message"`
}

func (p *pinterestAPI) serveEvents(w http.ResponseWriter, r *http.Request) {
	now := p.clock()
	fail := func(status, code int, msg string) {
		p.rec.log.rejected.Add(1)
		p.logger.Debug("sandbox rejected request", "status", status, "code", code, "reason", msg)
		writeJSON(w, status, map[string]any{"code": code, "message": msg})
	}
	account := r.PathValue("ad_account_id")
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !p.tokens.accept(account, token) {
		fail(http.StatusUnauthorized, pinterestCodeAuth, "Authentication failed.")
		return
	}
	if account == "" || !isDigits(account) {
		fail(http.StatusForbidden, pinterestCodeForbidden, "You are not permitted to access that resource.")
		return
	}
	top, err := readWireObject(w, r)
	if err != nil {
		fail(http.StatusBadRequest, pinterestCodeInvalid, err.Error())
		return
	}
	data, ok := top["data"].([]any)
	if !ok || len(data) == 0 || len(data) > pinterestMaxEvents {
		fail(http.StatusBadRequest, pinterestCodeInvalid, fmt.Sprintf("data: must be an array of 1 to %d events", pinterestMaxEvents))
		return
	}
	test := r.URL.Query().Get("test") == "true"
	statuses := make([]pinterestStatus, len(data))
	var accepted []RecordedEvent
	for i, raw := range data {
		ev, msg := checkPinterestEvent(raw, now)
		if msg != "" {
			statuses[i] = pinterestStatus{Status: "failed", ErrorMessage: msg}
			continue
		}
		statuses[i] = pinterestStatus{Status: "processed"}
		ev.Account, ev.ReceivedAt = account, now
		accepted = append(accepted, ev)
	}
	if !test && len(accepted) > 0 { // ?test=true validates and records nothing
		p.add(accepted)
	}
	report := map[string]any{"num_events_received": len(data), "num_events_processed": len(accepted), "events": statuses}
	if len(accepted) < len(data) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": pinterestCodeEvents,
			"message": "The action could not be processed properly due to some or all data provided being invalid.", "details": report})
		return
	}
	writeJSON(w, http.StatusOK, report)
}

// checkPinterestEvent applies the per-event contract; the message names the
// field and never a value.
func checkPinterestEvent(raw any, now time.Time) (RecordedEvent, string) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return RecordedEvent{}, "the event must be an object"
	}
	var ev RecordedEvent
	ev.EventName, _ = wireString(obj["event_name"])
	if !slices.Contains(pinterestEventNames, ev.EventName) {
		return ev, "Invalid event_name parameter: must be one of " + strings.Join(pinterestEventNames, ", ")
	}
	if src, _ := wireString(obj["action_source"]); !slices.Contains(pinterestActionSources, src) {
		return ev, "Invalid action_source parameter: must be one of " + strings.Join(pinterestActionSources, ", ")
	}
	ts, ok := wireUnixSeconds(obj["event_time"])
	if !ok {
		return ev, "Invalid event_time parameter: an integer Unix time in seconds is required"
	}
	if t := time.Unix(ts, 0); t.Before(now.Add(-pinterestMaxAge)) {
		return ev, fmt.Sprintf("Invalid event_timestamp parameter. Given timestamp is in the past. Current timestamp: %d, Given event_timestamp: %d", now.Unix(), ts)
	} else if t.After(now.Add(pinterestFutureSkew)) {
		return ev, fmt.Sprintf("Invalid event_timestamp parameter. Given timestamp is in the future. Current timestamp: %d, Given event_timestamp: %d", now.Unix(), ts)
	}
	if ev.EventID, _ = wireString(obj["event_id"]); ev.EventID == "" {
		return ev, "Missing event_id parameter"
	}
	if v, present := obj["opt_out"]; present {
		if _, isBool := v.(bool); !isBool {
			return ev, "Invalid opt_out parameter: must be a boolean"
		}
	}
	ud, ok := obj["user_data"].(map[string]any)
	if !ok {
		return ev, "Missing user_data parameter"
	}
	for _, k := range pinterestHashedKeys {
		if v, present := ud[k]; present && !wireHashed(v, hashList) {
			return ev, "Invalid user_data." + k + " parameter: values must be SHA-256 hashed (64 lowercase hex characters) in a list"
		}
	}
	ip, _ := wireString(ud["client_ip_address"])
	ua, _ := wireString(ud["client_user_agent"])
	for k, v := range map[string]string{"client_ip_address": ip, "client_user_agent": ua} {
		if looksHashed(v) {
			return ev, "Invalid user_data." + k + " parameter: must not be hashed"
		}
	}
	if ip != "" && !wireIP(ip) {
		return ev, "Invalid user_data.client_ip_address parameter"
	}
	_, hasEm := ud["em"]
	_, hasMaids := ud["hashed_maids"]
	if !hasEm && !hasMaids && (ip == "" || ua == "") {
		return ev, "user_data requires em, hashed_maids, or both client_ip_address and client_user_agent"
	}
	if cd, ok := obj["custom_data"].(map[string]any); ok {
		if v, present := cd["value"]; present {
			if _, isString := v.(string); !isString {
				return ev, "Invalid custom_data.value parameter: must be a string"
			}
		}
		if c, present := cd["currency"]; present {
			if s, ok := wireString(c); !ok || len(s) != 3 || !isLetter(s[0]) || !isLetter(s[1]) || !isLetter(s[2]) {
				return ev, "Invalid custom_data.currency parameter: must be an ISO 4217 code"
			}
		}
	}
	ev.Raw = compactEvent(obj)
	return ev, ""
}
