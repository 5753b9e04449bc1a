package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

const webhookName = "webhook"

// The signalpipe webhook contract the receiver enforces. The sandbox does not
// import the webhook destination, so these are written out again on purpose:
// the receiver is an independent check of what the destination sends.
const (
	webhookHeaderSignature = "X-Signalpipe-Signature"
	webhookHeaderTimestamp = "X-Signalpipe-Timestamp"
	webhookHeaderBatchID   = "X-Signalpipe-Batch-Id"
	webhookMaxBodyBytes    = 5 << 20
	webhookMaxEvents       = 1000
	// webhookTolerance is how far a request's timestamp may be from the
	// sandbox clock, either way.
	webhookTolerance = 5 * time.Minute
)

// webhookRawPIIKeys are keys that name raw personal data; the payload may
// only carry them hashed, as <key>_sha256.
var webhookRawPIIKeys = map[string]bool{
	"email": true, "phone": true, "first_name": true, "last_name": true,
	"street": true, "date_of_birth": true, "gender": true,
	"ip": true, "client_ip_address": true, "user_agent": true, "client_user_agent": true,
}

var (
	// webhookEmailRe finds an e-mail address anywhere in a string.
	webhookEmailRe = regexp.MustCompile(`[^\s@"<>]+@[^\s@"<>]+\.[A-Za-z]{2,}`)
	webhookSHA256  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// webhookAPI emulates a customer's webhook receiver: POST /hooks/{endpoint}
// with a signed {"events":[...]} body.
type webhookAPI struct {
	clock  func() time.Time
	secret []byte // empty: any well-formed signature is accepted
	logger *slog.Logger
	rec    *WebhookRecorder
}

func newWebhookAPI(clock func() time.Time, secret string, logger *slog.Logger, maxRecorded int) *webhookAPI {
	return &webhookAPI{
		clock:  clock,
		secret: []byte(secret),
		logger: logger.With("platform", webhookName),
		rec:    &WebhookRecorder{log: newEventLog[WebhookEvent](maxRecorded)},
	}
}

func (h *webhookAPI) name() string { return webhookName }

// routes: the receiver is served only at /hooks/{endpoint}, because its
// /webhook/-prefixed form would collide with Meta's /{version}/{pixel}/events.
func (h *webhookAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/hooks/{endpoint}", handler: h.serveHook, unprefixed: true}}
}

func (h *webhookAPI) writeFault(w http.ResponseWriter, f Fault) {
	writeWebhookError(w, f.Status, "injected fault: HTTP "+strconv.Itoa(f.Status))
}

func (h *webhookAPI) counters() *requestCounters { return &h.rec.log.requestCounters }

func (h *webhookAPI) stats() any { return h.rec.Stats() }

func (h *webhookAPI) events(limit int, eventID string) any {
	var match func(*WebhookEvent) bool
	if eventID != "" {
		match = func(r *WebhookEvent) bool { return r.EventID == eventID }
	}
	evs := cloneWebhookEvents(h.rec.log.last(limit, match))
	return struct {
		Count  int            `json:"count"`
		Events []WebhookEvent `json:"events"`
	}{len(evs), evs}
}

func (h *webhookAPI) reset() { h.rec.Reset() }

// webhookError is a refusal: the status and a message naming the rule (and
// the event by index), never a value from the request.
type webhookError struct {
	status int
	msg    string
}

func hookErr(status int, format string, args ...any) *webhookError {
	return &webhookError{status: status, msg: fmt.Sprintf(format, args...)}
}

func writeWebhookError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (h *webhookAPI) serveHook(w http.ResponseWriter, r *http.Request) {
	n, batchID, herr := h.accept(w, r)
	if herr != nil {
		h.rec.log.rejected.Add(1)
		h.logger.Debug("sandbox rejected request", "status", herr.status, "reason", herr.msg)
		writeWebhookError(w, herr.status, herr.msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": n, "batch_id": batchID})
}

// accept checks one request against the contract and records its events; it
// returns the number accepted, or the refusal, in which case nothing was
// recorded.
func (h *webhookAPI) accept(w http.ResponseWriter, r *http.Request) (int, string, *webhookError) {
	now := h.clock()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return 0, "", hookErr(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	tsText, sig := r.Header.Get(webhookHeaderTimestamp), r.Header.Get(webhookHeaderSignature)
	if tsText == "" || sig == "" {
		return 0, "", hookErr(http.StatusUnauthorized, "%s and %s headers are required", webhookHeaderTimestamp, webhookHeaderSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return 0, "", hookErr(http.StatusUnauthorized, "%s must be Unix seconds", webhookHeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > webhookTolerance || d < -webhookTolerance {
		return 0, "", hookErr(http.StatusUnauthorized, "%s is %s from the receiver's clock (tolerance %s)", webhookHeaderTimestamp, d.Round(time.Second), webhookTolerance)
	}
	body, herr := readWebhookBody(w, r)
	if herr != nil {
		return 0, "", herr
	}
	if herr := h.checkSignature(sig, tsText, body); herr != nil {
		return 0, "", herr
	}
	sum := sha256.Sum256(body)
	batchID := hex.EncodeToString(sum[:8])
	if got := r.Header.Get(webhookHeaderBatchID); got != batchID {
		return 0, "", hookErr(http.StatusBadRequest, "%s must be the first 16 hex digits of the body's SHA-256", webhookHeaderBatchID)
	}

	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return 0, "", hookErr(http.StatusBadRequest, "the body is not a JSON object")
	}
	for k := range top {
		if k != "events" {
			return 0, "", hookErr(http.StatusBadRequest, "unknown top-level key %q (want only \"events\")", k)
		}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(top["events"], &raws); err != nil || len(raws) == 0 || len(raws) > webhookMaxEvents {
		return 0, "", hookErr(http.StatusBadRequest, "events must be an array of 1 to %d events", webhookMaxEvents)
	}

	endpoint := r.PathValue("endpoint")
	recs := make([]WebhookEvent, len(raws))
	keys := make([]uint64, len(raws))
	for i, raw := range raws {
		ev, herr := checkWebhookEvent(i, raw)
		if herr != nil {
			return 0, "", herr
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, raw) // raw decoded above, so it is valid
		ev.Endpoint, ev.ReceivedAt, ev.Raw = endpoint, now, compact.Bytes()
		recs[i] = ev
		keys[i] = h.rec.log.dedupeKey([3]string{endpoint, ev.EventID, ""})
	}
	h.rec.log.add(recs, keys)
	return len(recs), batchID, nil
}

// readWebhookBody reads the body, refusing one over webhookMaxBodyBytes.
func readWebhookBody(w http.ResponseWriter, r *http.Request) ([]byte, *webhookError) {
	tooLarge := hookErr(http.StatusRequestEntityTooLarge, "the body exceeds %d bytes", webhookMaxBodyBytes)
	if r.ContentLength > webhookMaxBodyBytes {
		return nil, tooLarge
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, webhookMaxBodyBytes)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, hookErr(http.StatusBadRequest, "reading the body failed")
	}
	return buf.Bytes(), nil
}

// checkSignature requires "sha256=<64 hex>" and, with a secret configured,
// the right HMAC of timestamp + "." + body.
func (h *webhookAPI) checkSignature(sig, ts string, body []byte) *webhookError {
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(got) != sha256.Size {
		return hookErr(http.StatusUnauthorized, "%s must be sha256=<64 hex digits>", webhookHeaderSignature)
	}
	if len(h.secret) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return hookErr(http.StatusUnauthorized, "%s does not match: wrong secret, or the body was changed", webhookHeaderSignature)
	}
	return nil
}

// checkWebhookEvent checks the event at index i: the required fields, and no
// raw personal data anywhere in it.
func checkWebhookEvent(i int, raw json.RawMessage) (WebhookEvent, *webhookError) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return WebhookEvent{}, hookErr(http.StatusBadRequest, "events[%d] is not valid JSON", i)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return WebhookEvent{}, hookErr(http.StatusBadRequest, "events[%d] must be an object", i)
	}
	str := func(key string) (string, *webhookError) {
		s, ok := obj[key].(string)
		if !ok || s == "" {
			return "", hookErr(http.StatusBadRequest, "events[%d].%s is required (a non-empty string)", i, key)
		}
		return s, nil
	}
	var ev WebhookEvent
	var herr *webhookError
	if ev.EventID, herr = str("event_id"); herr != nil {
		return ev, herr
	}
	if ev.EventName, herr = str("event_name"); herr != nil {
		return ev, herr
	}
	t, herr := str("event_time")
	if herr != nil {
		return ev, herr
	}
	if _, err := time.Parse(time.RFC3339Nano, t); err != nil {
		return ev, hookErr(http.StatusBadRequest, "events[%d].event_time must be an RFC 3339 time", i)
	}
	ev.Source, _ = obj["source"].(string)
	if path := findRawPII(v, "events["+strconv.Itoa(i)+"]"); path != "" {
		return ev, hookErr(http.StatusBadRequest, "%s: raw personal data; send it normalized and hashed as <key>_sha256", path)
	}
	return ev, nil
}

// findRawPII returns the path of the first value in v that is raw personal
// data: a key naming it (email, phone, …), a string that looks like an e-mail
// address, or a *_sha256 key whose value is not a lowercase SHA-256 digest.
// The path names keys and indexes only, never a value.
func findRawPII(v any, path string) string {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			val := x[k]
			p := path + "." + k
			if webhookRawPIIKeys[strings.ToLower(k)] {
				return p
			}
			if strings.HasSuffix(k, "_sha256") {
				if s, ok := val.(string); !ok || !webhookSHA256.MatchString(s) {
					return p + " (not a lowercase SHA-256 hex digest)"
				}
				continue
			}
			if found := findRawPII(val, p); found != "" {
				return found
			}
		}
	case []any:
		for i, val := range x {
			if found := findRawPII(val, path+"["+strconv.Itoa(i)+"]"); found != "" {
				return found
			}
		}
	case string:
		if webhookEmailRe.MatchString(x) {
			return path + " (an e-mail address)"
		}
	}
	return ""
}
