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

const microsoftName = "microsoft"

// The UET Conversions API contract (platform-apis.md §8a).
const (
	uetMaxBodyBytes = 8 << 20
	uetMaxBatch     = 1000
	uetMaxEventAge  = 7 * 24 * time.Hour
	uetFutureSkew   = 5 * time.Minute
)

var (
	uetTagRe = regexp.MustCompile(`^[0-9]{1,20}$`)
	// uetMsclkidRe is a click id: a GUID (32 hex digits, or with dashes),
	// optionally with the "-0"/"-1" new-session byte UET appends [doc].
	uetMsclkidRe  = regexp.MustCompile(`^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(-[01])?$`)
	uetCurrencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	// uetIdentifiers are the userData keys of which an event needs one.
	uetIdentifiers = []string{"msclkid", "em", "ph", "anonymousId", "externalId"}
)

// microsoftAPI emulates the UET Conversions API, POST /v1/{tag}/events.
type microsoftAPI struct{ bearerEmulator }

func newMicrosoftAPI(e emulatorEnv) platform {
	return &microsoftAPI{newBearerEmulator(e, microsoftName)}
}

// Microsoft returns the recorder of the events the UET Conversions API
// emulator accepted.
func (s *Server) Microsoft() *Recorder { return emulator[*microsoftAPI](s, microsoftName).rec }

func (m *microsoftAPI) name() string { return microsoftName }

func (m *microsoftAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/v1/{tag}/events", handler: m.serve}}
}

// uetError is the UET error envelope {"error":{code,message}}, with the
// failed events' errors beside it.
type uetError struct {
	status  int
	Code    string
	Message string
	Errors  []uetEventError
}

// uetEventError names one invalid event.
type uetEventError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func writeUETError(w http.ResponseWriter, e *uetError) {
	body := map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}}
	if len(e.Errors) > 0 {
		body["errors"] = e.Errors
	}
	w.Header().Set("X-Ms-Request-Id", newTraceID())
	writeJSON(w, e.status, body)
}

func (m *microsoftAPI) writeFault(w http.ResponseWriter, f Fault) {
	code := faultCode(f.Status, "TooManyRequests", "Unauthorized", "Forbidden", "BadRequest", "InternalServerError")
	writeUETError(w, &uetError{status: f.Status, Code: code, Message: "injected by the signalpipe sandbox (HTTP " + strconv.Itoa(f.Status) + ")"})
}

func (m *microsoftAPI) serve(w http.ResponseWriter, r *http.Request) {
	n, failed, uerr := m.accept(w, r)
	if uerr != nil {
		m.rec.log.rejected.Add(1)
		m.logger.Debug("sandbox rejected request", "status", uerr.status, "code", uerr.Code, "reason", uerr.Message)
		writeUETError(w, uerr)
		return
	}
	body := map[string]any{"eventsReceived": n}
	if len(failed) > 0 {
		body["errors"] = failed
	}
	w.Header().Set("X-Ms-Request-Id", newTraceID())
	writeJSON(w, http.StatusOK, body)
}

// accept checks the request and its events. With continueOnValidationError
// the valid events are recorded and the invalid ones returned; without it
// one invalid event refuses the request and nothing is recorded.
func (m *microsoftAPI) accept(w http.ResponseWriter, r *http.Request) (int, []uetEventError, *uetError) {
	now := m.clock()
	switch checkBearer(r, m.token) {
	case bearerMissing, bearerWrong:
		return 0, nil, &uetError{status: http.StatusUnauthorized, Code: "Unauthorized", Message: "a valid Conversions API token is required"}
	}
	tag := r.PathValue("tag")
	if !uetTagRe.MatchString(tag) {
		return 0, nil, &uetError{status: http.StatusNotFound, Code: "TagNotFound", Message: "no UET tag with this id"}
	}
	if !isJSONContent(r) {
		return 0, nil, &uetError{status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Message: "Content-Type must be application/json"}
	}
	body, tooLarge, err := readBody(w, r, uetMaxBodyBytes)
	switch {
	case tooLarge:
		return 0, nil, &uetError{status: http.StatusRequestEntityTooLarge, Code: "PayloadTooLarge", Message: "request body too large"}
	case err != nil:
		return 0, nil, &uetError{status: http.StatusBadRequest, Code: "InvalidRequest", Message: "reading the request body failed"}
	}
	var req struct {
		Data                      []json.RawMessage `json:"data"`
		ContinueOnValidationError bool              `json:"continueOnValidationError"`
		DataProvider              string            `json:"dataProvider"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, &uetError{status: http.StatusBadRequest, Code: "InvalidRequest", Message: `the body must be {"data":[...]} with the documented field types`}
	}
	if n := len(req.Data); n == 0 || n > uetMaxBatch {
		return 0, nil, &uetError{status: http.StatusBadRequest, Code: "InvalidRequest", Message: fmt.Sprintf("data must hold 1 to %d events, got %d", uetMaxBatch, n)}
	}
	var recs []RecordedEvent
	var failed []uetEventError
	for i, raw := range req.Data {
		rec, field, msg := checkUETEvent(raw, now)
		if msg != "" {
			failed = append(failed, uetEventError{Index: i, Field: "data[" + strconv.Itoa(i) + "]" + field, Message: msg})
			continue
		}
		rec.Account, rec.ReceivedAt = tag, now
		recs = append(recs, rec)
	}
	if len(failed) > 0 && !req.ContinueOnValidationError {
		return 0, nil, &uetError{status: http.StatusBadRequest, Code: "InvalidEvents",
			Message: strconv.Itoa(len(failed)) + " events failed validation", Errors: failed}
	}
	m.add(recs)
	return len(recs), failed, nil
}

// checkUETEvent checks one event; on failure it returns the field path and
// the rule broken, never a value.
func checkUETEvent(raw json.RawMessage, now time.Time) (rec RecordedEvent, field, msg string) {
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil || ev == nil {
		return rec, "", "must be an object"
	}
	et, _ := ev["eventType"].(string)
	if et != "pageLoad" && et != "custom" {
		return rec, ".eventType", "required, pageLoad or custom"
	}
	ts, ok := ev["eventTime"].(json.Number)
	secs, err := ts.Int64()
	switch {
	case !ok || err != nil:
		return rec, ".eventTime", "required, Unix seconds as an integer"
	case secs >= 1e11:
		return rec, ".eventTime", "must be Unix seconds, not milliseconds"
	case now.Sub(time.Unix(secs, 0)) > uetMaxEventAge:
		return rec, ".eventTime", "event is older than 7 days"
	case time.Unix(secs, 0).Sub(now) > uetFutureSkew:
		return rec, ".eventTime", "event is in the future"
	}
	id, _ := ev["eventId"].(string)
	name, _ := ev["eventName"].(string)
	if _, present := ev["eventId"]; present && id == "" {
		return rec, ".eventId", "must be a non-empty string"
	}
	if et == "custom" && name == "" {
		return rec, ".eventName", "required for custom events"
	}
	if v, present := ev["adStorageConsent"]; present && v != "G" && v != "D" {
		return rec, ".adStorageConsent", "must be G or D"
	}
	ud, ok := ev["userData"].(map[string]any)
	if !ok {
		return rec, ".userData", "required, an object"
	}
	for _, k := range []string{"em", "ph"} {
		if v, present := ud[k]; present {
			if s, _ := v.(string); !sha256HexRe.MatchString(s) {
				return rec, ".userData." + k, "must be the lowercase hex SHA-256 of the normalized value"
			}
		}
	}
	if v, present := ud["msclkid"]; present {
		if s, _ := v.(string); !uetMsclkidRe.MatchString(s) {
			return rec, ".userData.msclkid", "must be a Microsoft click id (a GUID)"
		}
	}
	hasID := false
	for _, k := range uetIdentifiers {
		if s, _ := ud[k].(string); s != "" {
			hasID = true
		}
	}
	if !hasID {
		return rec, ".userData", "at least one identifier is required (msclkid, em, ph, anonymousId or externalId)"
	}
	if cd, present := ev["customData"]; present {
		c, ok := cd.(map[string]any)
		if !ok {
			return rec, ".customData", "must be an object"
		}
		if v, present := c["value"]; present {
			if _, ok := v.(json.Number); !ok {
				return rec, ".customData.value", "must be a number"
			}
		}
		if v, present := c["currency"]; present {
			if s, _ := v.(string); !uetCurrencyRe.MatchString(s) {
				return rec, ".customData.currency", "must be an upper-case ISO 4217 code"
			}
		}
	}
	if name == "" {
		name = et
	}
	return RecordedEvent{EventID: id, EventName: name, Raw: compactJSON(raw)}, "", ""
}
