package sandbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

const tiktokName = "tiktok"

// Limits of TikTok's Events API 2.0 as the emulator enforces them
// (platform-apis.md §3; the destination package doc says which are our
// decisions on unconfirmed points).
const (
	tiktokMaxEvents  = 1000
	tiktokMaxAge     = 7 * 24 * time.Hour
	tiktokFutureSkew = 5 * time.Minute
)

// TikTok answer codes the emulator uses: 0, 20001 and 40100 are TikTok's
// [3p]; 40104/40105 are the Business API's token codes [public Q&A]; 40000
// for an invalid request is sandbox-assigned.
const (
	tiktokCodeOK           = 0
	tiktokCodePartial      = 20001
	tiktokCodeInvalid      = 40000
	tiktokCodeNoPermission = 40001
	tiktokCodeThrottled    = 40100
	tiktokCodeTokenEmpty   = 40104
	tiktokCodeTokenInvalid = 40105
	tiktokCodeServer       = 50000
)

var tiktokEventSources = []string{"web", "app", "offline", "crm"}

// tiktokAPI emulates POST /open_api/{version}/event/track/.
type tiktokAPI struct {
	recording
	clock  func() time.Time
	tokens accountTokens
	logger *slog.Logger
}

func newTikTokAPI(e emulatorEnv) *tiktokAPI {
	return &tiktokAPI{recording: recording{rec: newRecorder(e.maxRecorded)}, clock: e.clock,
		tokens: newAccountTokens(e.opts.TikTokTokens, e.opts.BearerTokens[tiktokName]), logger: e.logger.With("platform", tiktokName)}
}

func (t *tiktokAPI) name() string { return tiktokName }

func (t *tiktokAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/open_api/{version}/event/track/{$}", handler: t.serveTrack}}
}

func (t *tiktokAPI) writeFault(w http.ResponseWriter, f Fault) {
	code := tiktokCodeInvalid
	switch {
	case f.Status == http.StatusTooManyRequests:
		code = tiktokCodeThrottled
	case f.Status >= 500:
		code = tiktokCodeServer
	case f.Status == http.StatusUnauthorized:
		code = tiktokCodeTokenInvalid
	case f.Status == http.StatusForbidden:
		code = tiktokCodeNoPermission
	}
	writeTikTok(w, f.Status, code, fmt.Sprintf("injected by the signalpipe sandbox (HTTP %d)", f.Status), nil)
}

// tiktokFailed is one entry of data.failed_events in a partial answer.
type tiktokFailed struct {
	Index   int    `json:"index"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// writeTikTok answers with TikTok's envelope {code, message, request_id, data}.
func writeTikTok(w http.ResponseWriter, status, code int, msg string, failed []tiktokFailed) {
	data := map[string]any{}
	if failed != nil {
		data["failed_events"] = failed
	}
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "request_id": newTraceID(), "data": data})
}

// serveTrack checks the request; TikTok answers HTTP 200 whatever the code.
func (t *tiktokAPI) serveTrack(w http.ResponseWriter, r *http.Request) {
	now := t.clock()
	reject := func(code int, msg string, failed []tiktokFailed) {
		t.rec.log.rejected.Add(1)
		t.logger.Debug("sandbox rejected request", "code", code, "reason", msg)
		writeTikTok(w, http.StatusOK, code, msg, failed)
	}
	token := r.Header.Get("Access-Token")
	if token == "" {
		reject(tiktokCodeTokenEmpty, "Access token is null, you should set it in http header with key Access-Token.", nil)
		return
	}
	top, err := readWireObject(w, r)
	if err != nil {
		reject(tiktokCodeInvalid, err.Error(), nil)
		return
	}
	src, _ := wireString(top["event_source"])
	srcID, _ := wireString(top["event_source_id"])
	switch {
	case !slices.Contains(tiktokEventSources, src):
		reject(tiktokCodeInvalid, "event_source: must be one of web, app, offline, crm", nil)
		return
	case srcID == "":
		reject(tiktokCodeInvalid, "event_source_id: required", nil)
		return
	}
	if !t.tokens.accept(srcID, token) {
		reject(tiktokCodeTokenInvalid, "Access token is incorrect or has been revoked.", nil)
		return
	}
	data, ok := top["data"].([]any)
	if !ok || len(data) == 0 || len(data) > tiktokMaxEvents {
		reject(tiktokCodeInvalid, fmt.Sprintf("data: must be an array of 1 to %d events", tiktokMaxEvents), nil)
		return
	}
	testCode, _ := wireString(top["test_event_code"])
	var accepted []RecordedEvent
	var failed []tiktokFailed
	for i, raw := range data {
		ev, msg := checkTikTokEvent(raw, now)
		if msg != "" {
			failed = append(failed, tiktokFailed{Index: i, Code: tiktokCodeInvalid, Message: fmt.Sprintf("data[%d].%s", i, msg)})
			continue
		}
		ev.Account, ev.Test, ev.ReceivedAt = srcID, testCode != "", now
		accepted = append(accepted, ev)
	}
	if len(accepted) == 0 {
		reject(tiktokCodeInvalid, "every event is invalid: "+failed[0].Message, failed)
		return
	}
	t.add(accepted)
	if failed != nil {
		writeTikTok(w, http.StatusOK, tiktokCodePartial, fmt.Sprintf("Partial Success: %d of %d events failed", len(failed), len(data)), failed)
		return
	}
	writeTikTok(w, http.StatusOK, tiktokCodeOK, "OK", nil)
}

// checkTikTokEvent applies the per-event contract; the message names the
// field (relative to the event) and never a value.
func checkTikTokEvent(raw any, now time.Time) (RecordedEvent, string) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return RecordedEvent{}, "event: must be an object"
	}
	var ev RecordedEvent
	if ev.EventName, _ = wireString(obj["event"]); ev.EventName == "" {
		return ev, "event: required (a string)"
	}
	ts, ok := wireUnixSeconds(obj["event_time"])
	if !ok {
		return ev, "event_time: required, an integer Unix time in seconds"
	}
	if p := wireAge(ts, now, tiktokMaxAge, tiktokFutureSkew); p != "" {
		return ev, "event_time: " + p
	}
	ev.EventID, _ = wireString(obj["event_id"])
	user, ok := obj["user"].(map[string]any)
	if !ok {
		return ev, "user: required (an object)"
	}
	ids := 0
	for _, k := range []string{"email", "phone", "external_id"} {
		v, present := user[k]
		if !present {
			continue
		}
		if !wireHashed(v, hashOneOrList) {
			return ev, "user." + k + ": must be SHA-256 hashed (64 lowercase hex characters)"
		}
		ids++
	}
	for _, k := range []string{"ttclid", "ttp", "ip", "user_agent"} {
		v, present := user[k]
		if !present {
			continue
		}
		s, ok := wireString(v)
		switch {
		case !ok || s == "":
			return ev, "user." + k + ": must be a non-empty string"
		case looksHashed(s):
			return ev, "user." + k + ": must not be hashed"
		case k == "ip" && !wireIP(s):
			return ev, "user.ip: must be an IPv4 or IPv6 address"
		}
		if k != "user_agent" {
			ids++
		}
	}
	if ids == 0 {
		return ev, "user: needs at least one of email, phone, external_id, ttclid, ttp or ip"
	}
	if p, ok := obj["properties"].(map[string]any); ok {
		if v, present := p["value"]; present {
			if _, isNum := v.(interface{ Float64() (float64, error) }); !isNum {
				return ev, "properties.value: must be a number"
			}
		}
		if c, present := p["currency"]; present {
			if s, ok := wireString(c); !ok || len(s) != 3 || !isLetter(s[0]) || !isLetter(s[1]) || !isLetter(s[2]) {
				return ev, "properties.currency: must be an ISO 4217 code"
			}
		}
	}
	ev.Raw = compactEvent(obj)
	return ev, ""
}
