package sandbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

const snapchatName = "snapchat"

// Limits of Snapchat's Conversions API v3 as the emulator enforces them
// (platform-apis.md §4): 37 days is Snap's documented window; 2,000 events
// per request is the unconfirmed common limit.
const (
	snapchatMaxEvents  = 2000
	snapchatMaxAge     = 37 * 24 * time.Hour
	snapchatFutureSkew = 5 * time.Minute
)

var (
	snapchatActionSources = []string{"WEB", "MOBILE_APP", "OFFLINE"}
	snapchatHashedKeys    = []string{"em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id"}
)

// snapchatAPI emulates POST /v3/{pixel_id}/events and its validate twin.
// Snap refuses a request as a whole (HTTP 400, status INVALID), naming the
// first bad event; nothing of a refused request is recorded.
type snapchatAPI struct {
	recording
	clock  func() time.Time
	tokens accountTokens
	logger *slog.Logger
}

func newSnapchatAPI(e emulatorEnv) *snapchatAPI {
	return &snapchatAPI{recording: recording{rec: newRecorder(e.maxRecorded)}, clock: e.clock,
		tokens: newAccountTokens(e.opts.SnapchatTokens, e.opts.BearerTokens[snapchatName]), logger: e.logger.With("platform", snapchatName)}
}

func (s *snapchatAPI) name() string { return snapchatName }

func (s *snapchatAPI) routes() []route {
	return []route{
		{method: http.MethodPost, path: "/v3/{pixel}/events", handler: func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, false) }},
		{method: http.MethodPost, path: "/v3/{pixel}/events/validate", handler: func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, true) }},
	}
}

func (s *snapchatAPI) writeFault(w http.ResponseWriter, f Fault) {
	writeSnapchat(w, f.Status, "FAILED", fmt.Sprintf("injected by the signalpipe sandbox (HTTP %d)", f.Status))
}

// writeSnapchat answers with Snap's {status, reason, request_id} envelope.
func writeSnapchat(w http.ResponseWriter, status int, st, reason string) {
	writeJSON(w, status, map[string]any{"status": st, "reason": reason, "request_id": newTraceID()})
}

func (s *snapchatAPI) serve(w http.ResponseWriter, r *http.Request, validateOnly bool) {
	now := s.clock()
	fail := func(status int, st, reason string) {
		s.rec.log.rejected.Add(1)
		s.logger.Debug("sandbox rejected request", "status", status, "reason", reason)
		writeSnapchat(w, status, st, reason)
	}
	pixel := r.PathValue("pixel")
	token := r.URL.Query().Get("access_token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = bearer
	}
	if token == "" {
		fail(http.StatusUnauthorized, "UNAUTHORIZED", "an access token is required (Authorization: Bearer or access_token)")
		return
	}
	if !s.tokens.accept(pixel, token) {
		fail(http.StatusUnauthorized, "UNAUTHORIZED", "the access token is not valid for this pixel")
		return
	}
	top, err := readWireObject(w, r)
	if err != nil {
		fail(http.StatusBadRequest, "INVALID", err.Error())
		return
	}
	data, ok := top["data"].([]any)
	if !ok || len(data) == 0 || len(data) > snapchatMaxEvents {
		fail(http.StatusBadRequest, "INVALID", fmt.Sprintf("data: must be an array of 1 to %d events", snapchatMaxEvents))
		return
	}
	evs := make([]RecordedEvent, len(data))
	for i, raw := range data {
		ev, msg := checkSnapchatEvent(raw, now)
		if msg != "" {
			fail(http.StatusBadRequest, "INVALID", fmt.Sprintf("data[%d].%s", i, msg))
			return
		}
		ev.Account, ev.ReceivedAt = pixel, now
		evs[i] = ev
	}
	if !validateOnly {
		s.add(evs)
	}
	writeSnapchat(w, http.StatusOK, "SUCCESS", "")
}

// checkSnapchatEvent applies the validate endpoint's documented rules:
// required fields, price and currency on purchases, hashed PII, timestamp
// range, enough PII. The message names the field, never a value.
func checkSnapchatEvent(raw any, now time.Time) (RecordedEvent, string) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return RecordedEvent{}, "event: must be an object"
	}
	var ev RecordedEvent
	if ev.EventName, _ = wireString(obj["event_name"]); ev.EventName == "" {
		return ev, "event_name: required"
	}
	ts, ok := wireUnixSeconds(obj["event_time"])
	if !ok {
		return ev, "event_time: required, an integer Unix time in seconds"
	}
	if p := wireAge(ts, now, snapchatMaxAge, snapchatFutureSkew); p != "" {
		return ev, "event_time: timestamp out of range: " + p
	}
	source, _ := wireString(obj["action_source"])
	if !slices.Contains(snapchatActionSources, source) {
		return ev, "action_source: must be one of WEB, MOBILE_APP, OFFLINE"
	}
	if url, _ := wireString(obj["event_source_url"]); source == "WEB" && url == "" {
		return ev, "event_source_url: required for WEB events"
	}
	ev.EventID, _ = wireString(obj["event_id"])
	ud, ok := obj["user_data"].(map[string]any)
	if !ok {
		return ev, "user_data: required (an object)"
	}
	ids := 0
	for _, k := range snapchatHashedKeys {
		if v, present := ud[k]; present {
			if !wireHashed(v, hashOneOrList) {
				return ev, "user_data." + k + ": unhashed PII (send a SHA-256 digest, 64 lowercase hex characters)"
			}
			if k == "em" || k == "ph" || k == "external_id" {
				ids++
			}
		}
	}
	ip, _ := wireString(ud["client_ip_address"])
	ua, _ := wireString(ud["client_user_agent"])
	if ip != "" && !wireIP(ip) && !isLowerSHA256Hex([]byte(ip)) {
		return ev, "user_data.client_ip_address: invalid IP address (raw, or a SHA-256 digest)"
	}
	for _, k := range []string{"sc_click_id", "sc_cookie1"} {
		v, _ := wireString(ud[k])
		if looksHashed(v) {
			return ev, "user_data." + k + ": must not be hashed"
		}
		if v != "" {
			ids++
		}
	}
	if ids == 0 && (ip == "" || ua == "") {
		return ev, "user_data: insufficient PII (send em, ph, external_id, sc_click_id, sc_cookie1, or client_ip_address with client_user_agent)"
	}
	cd, _ := obj["custom_data"].(map[string]any)
	if ev.EventName == "PURCHASE" {
		_, hasValue := cd["value"]
		cur, _ := wireString(cd["currency"])
		if !hasValue || cur == "" {
			return ev, "custom_data: PURCHASE events need value (price) and currency"
		}
	}
	if v, present := cd["value"]; present {
		if _, isNum := v.(interface{ Float64() (float64, error) }); !isNum {
			return ev, "custom_data.value: must be a number"
		}
	}
	ev.Raw = compactEvent(obj)
	return ev, ""
}
