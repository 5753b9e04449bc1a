package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

const linkedinName = "linkedin"

// The LinkedIn Conversions API contract (platform-apis.md §6).
const (
	linkedinMaxBodyBytes  = 16 << 20
	linkedinMaxBatch      = 5000
	linkedinMaxEventAge   = 90 * 24 * time.Hour
	linkedinFutureSkew    = 5 * time.Minute
	linkedinMaxEventIDLen = 64
	// linkedinVersionLife is how long a LinkedIn-Version stays active; LinkedIn
	// sunsets versions about a year after release [sandbox approximation].
	linkedinVersionLife = 12
)

var (
	linkedinURNRe      = regexp.MustCompile(`^urn:lla:llaPartnerConversion:[1-9][0-9]*$`)
	linkedinVersionRe  = regexp.MustCompile(`^(20[0-9]{2})(0[1-9]|1[0-2])$`)
	linkedinCurrencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	linkedinAmountRe   = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	linkedinCountryRe  = regexp.MustCompile(`^[A-Z]{2}$`)
	// linkedinIDTypes are the user id types LinkedIn accepts (GOOGLE_AID
	// since version 202605).
	linkedinIDTypes = map[string]bool{
		"SHA256_EMAIL": true, "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID": true, "ACXIOM_ID": true, "ORACLE_MOAT_ID": true, "GOOGLE_AID": true,
	}
)

// linkedinAPI emulates POST /rest/conversionEvents, single and BATCH_CREATE.
type linkedinAPI struct{ bearerEmulator }

func newLinkedInAPI(e emulatorEnv) platform {
	return &linkedinAPI{newBearerEmulator(e, linkedinName)}
}

// LinkedIn returns the recorder of the events the LinkedIn emulator accepted.
func (s *Server) LinkedIn() *Recorder { return emulator[*linkedinAPI](s, linkedinName).rec }

func (l *linkedinAPI) name() string { return linkedinName }

func (l *linkedinAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/rest/conversionEvents", handler: l.serve}}
}

// linkedinError is LinkedIn's error body; within a batch it sits in an
// element as "error".
type linkedinError struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode,omitempty"`
	Code             string `json:"code"`
	Message          string `json:"message"`
}

func (l *linkedinAPI) writeFault(w http.ResponseWriter, f Fault) {
	code := faultCode(f.Status, "TOO_MANY_REQUESTS", "INVALID_ACCESS_TOKEN", "ACCESS_DENIED", "BAD_REQUEST", "SERVER_ERROR")
	writeLinkedInError(w, &linkedinError{Status: f.Status, Code: code, Message: "injected by the signalpipe sandbox (HTTP " + strconv.Itoa(f.Status) + ")"})
}

func writeLinkedInError(w http.ResponseWriter, e *linkedinError) {
	w.Header().Set("X-Li-Uuid", newTraceID())
	writeJSON(w, e.Status, e)
}

func linkedinBadRequest(code, format string, args ...any) *linkedinError {
	return &linkedinError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (l *linkedinAPI) serve(w http.ResponseWriter, r *http.Request) {
	statuses, single, lerr := l.accept(w, r)
	if lerr != nil {
		l.rec.log.rejected.Add(1)
		l.logger.Debug("sandbox rejected request", "status", lerr.Status, "code", lerr.Code, "reason", lerr.Message)
		writeLinkedInError(w, lerr)
		return
	}
	if single {
		if e := statuses[0].Error; e != nil {
			writeLinkedInError(w, e)
			return
		}
		w.Header().Set("X-Li-Uuid", newTraceID())
		w.WriteHeader(http.StatusCreated)
		return
	}
	w.Header().Set("X-Li-Uuid", newTraceID())
	writeJSON(w, http.StatusOK, map[string]any{"elements": statuses})
}

// linkedinStatus is one element's answer in a BATCH_CREATE response.
type linkedinStatus struct {
	Status int            `json:"status"`
	Error  *linkedinError `json:"error,omitempty"`
}

// accept checks the request and each element, records the valid elements
// and returns one status per element; a request-level refusal records
// nothing.
func (l *linkedinAPI) accept(w http.ResponseWriter, r *http.Request) ([]linkedinStatus, bool, *linkedinError) {
	now := l.clock()
	switch checkBearer(r, l.token) {
	case bearerMissing, bearerWrong:
		return nil, false, &linkedinError{Status: http.StatusUnauthorized, ServiceErrorCode: 65600, Code: "INVALID_ACCESS_TOKEN", Message: "Invalid access token"}
	}
	if lerr := checkLinkedInVersion(r.Header.Get("LinkedIn-Version"), now); lerr != nil {
		return nil, false, lerr
	}
	if v := r.Header.Get("X-Restli-Protocol-Version"); v != "2.0.0" {
		return nil, false, linkedinBadRequest("ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version must be 2.0.0")
	}
	if !isJSONContent(r) {
		return nil, false, &linkedinError{Status: http.StatusUnsupportedMediaType, Code: "UNSUPPORTED_MEDIA_TYPE", Message: "Content-Type must be application/json"}
	}
	body, tooLarge, err := readBody(w, r, linkedinMaxBodyBytes)
	switch {
	case tooLarge:
		return nil, false, &linkedinError{Status: http.StatusRequestEntityTooLarge, Code: "REQUEST_TOO_LARGE", Message: "request body too large"}
	case err != nil:
		return nil, false, linkedinBadRequest("ILLEGAL_ARGUMENT", "reading the request body failed")
	}
	var raws []json.RawMessage
	single := r.Header.Get("X-RestLi-Method") != "BATCH_CREATE"
	if single {
		raws = []json.RawMessage{body}
	} else {
		var top struct {
			Elements []json.RawMessage `json:"elements"`
		}
		if err := json.Unmarshal(body, &top); err != nil || len(top.Elements) == 0 {
			return nil, false, linkedinBadRequest("ILLEGAL_ARGUMENT", "a BATCH_CREATE body is {\"elements\":[...]} with at least one element")
		}
		if len(top.Elements) > linkedinMaxBatch {
			return nil, false, linkedinBadRequest("BATCH_SIZE_EXCEEDED", "a batch holds at most %d conversion events, got %d", linkedinMaxBatch, len(top.Elements))
		}
		raws = top.Elements
	}
	statuses := make([]linkedinStatus, len(raws))
	var recs []RecordedEvent
	for i, raw := range raws {
		rec, lerr := checkLinkedInEvent(raw, now)
		if lerr != nil {
			if !single {
				lerr.Message = "ERROR :: /elements/" + strconv.Itoa(i) + lerr.Message
			} else {
				lerr.Message = "ERROR :: " + lerr.Message
			}
			statuses[i] = linkedinStatus{Status: lerr.Status, Error: lerr}
			continue
		}
		rec.ReceivedAt = now
		recs = append(recs, rec)
		statuses[i] = linkedinStatus{Status: http.StatusCreated}
	}
	l.add(recs)
	return statuses, single, nil
}

// checkLinkedInVersion requires an active YYYYMM version: not after the
// sandbox clock's month and not older than linkedinVersionLife months.
func checkLinkedInVersion(v string, now time.Time) *linkedinError {
	if v == "" {
		return linkedinBadRequest("VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.")
	}
	m := linkedinVersionRe.FindStringSubmatch(v)
	if m == nil {
		return linkedinBadRequest("VERSION_INVALID", "LinkedIn-Version must be YYYYMM")
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	age := (now.Year()-y)*12 + int(now.Month()) - mo
	if age < 0 || age > linkedinVersionLife {
		return &linkedinError{Status: http.StatusUpgradeRequired, Code: "NONEXISTENT_VERSION", Message: "Requested version " + v + " is not active"}
	}
	return nil
}

// checkLinkedInEvent checks one conversion event. The error's message is a
// path (" :: " and the rule) to prefix, never a value from the request.
func checkLinkedInEvent(raw json.RawMessage, now time.Time) (RecordedEvent, *linkedinError) {
	bad := func(path, format string, args ...any) (RecordedEvent, *linkedinError) {
		return RecordedEvent{}, &linkedinError{Status: http.StatusBadRequest, Code: "INVALID_FIELD_VALUE", Message: "/" + path + " :: " + fmt.Sprintf(format, args...)}
	}
	var ev struct {
		Conversion      *string          `json:"conversion"`
		HappenedAt      *json.Number     `json:"conversionHappenedAt"`
		ConversionValue *json.RawMessage `json:"conversionValue"`
		EventID         *string          `json:"eventId"`
		User            *struct {
			UserIDs []struct {
				IDType  string `json:"idType"`
				IDValue string `json:"idValue"`
			} `json:"userIds"`
			UserInfo *struct {
				FirstName   string `json:"firstName"`
				LastName    string `json:"lastName"`
				CountryCode string `json:"countryCode"`
			} `json:"userInfo"`
		} `json:"user"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		return bad("", "not a conversion event object of the documented field types")
	}
	if ev.Conversion == nil || !linkedinURNRe.MatchString(*ev.Conversion) {
		return bad("conversion", "required, a urn:lla:llaPartnerConversion:<id> URN")
	}
	if ev.HappenedAt == nil {
		return bad("conversionHappenedAt", "required")
	}
	ms, err := ev.HappenedAt.Int64()
	if err != nil || ms < 1e12 {
		return bad("conversionHappenedAt", "must be epoch milliseconds")
	}
	at := time.UnixMilli(ms)
	if now.Sub(at) > linkedinMaxEventAge {
		return bad("conversionHappenedAt", "conversion happened more than 90 days ago")
	}
	if at.Sub(now) > linkedinFutureSkew {
		return bad("conversionHappenedAt", "conversion happened in the future")
	}
	if ev.EventID != nil && (len(*ev.EventID) == 0 || len(*ev.EventID) > linkedinMaxEventIDLen) {
		return bad("eventId", "must be 1 to %d characters", linkedinMaxEventIDLen)
	}
	if ev.ConversionValue != nil {
		var v map[string]any
		_ = json.Unmarshal(*ev.ConversionValue, &v)
		currency, _ := v["currencyCode"].(string)
		amount, _ := v["amount"].(string)
		if !linkedinCurrencyRe.MatchString(currency) {
			return bad("conversionValue/currencyCode", "required, an ISO 4217 code")
		}
		if f, err := strconv.ParseFloat(amount, 64); !linkedinAmountRe.MatchString(amount) || err != nil || math.IsInf(f, 0) {
			return bad("conversionValue/amount", "required, a decimal number as a string")
		}
	}
	if ev.User == nil || len(ev.User.UserIDs) == 0 {
		return bad("user/userIds", "at least one user id is required")
	}
	for j, id := range ev.User.UserIDs {
		p := "user/userIds/" + strconv.Itoa(j)
		switch {
		case !linkedinIDTypes[id.IDType]:
			return bad(p+"/idType", "must be one of SHA256_EMAIL, LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID, ACXIOM_ID, ORACLE_MOAT_ID, GOOGLE_AID")
		case id.IDValue == "":
			return bad(p+"/idValue", "required")
		case id.IDType == "SHA256_EMAIL" && !sha256HexRe.MatchString(id.IDValue):
			return bad(p+"/idValue", "SHA256_EMAIL must be the lowercase hex SHA-256 of the email address")
		}
	}
	if ui := ev.User.UserInfo; ui != nil {
		switch {
		case ui.FirstName == "" || ui.LastName == "":
			return bad("user/userInfo", "firstName and lastName are both required")
		case ui.CountryCode != "" && !linkedinCountryRe.MatchString(ui.CountryCode):
			return bad("user/userInfo/countryCode", "must be an upper-case ISO 3166-1 alpha-2 code")
		}
	}
	rec := RecordedEvent{Account: *ev.Conversion, EventName: *ev.Conversion, Raw: compactJSON(raw)}
	if ev.EventID != nil {
		rec.EventID = *ev.EventID
	}
	return rec, nil
}
