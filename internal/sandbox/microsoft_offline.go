package sandbox

import (
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const microsoftOfflineName = "microsoft_offline"

// The ApplyOfflineConversions contract (platform-apis.md §8b).
const (
	offlineMaxBodyBytes = 4 << 20
	offlineMaxBatch     = 1000 // [doc] per service request
	offlineMaxAge       = 90 * 24 * time.Hour
	offlineFutureSkew   = 5 * time.Minute
	offlineMaxName      = 100
)

var offlineIDRe = regexp.MustCompile(`^[0-9]{1,20}$`)

// microsoftOfflineAPI emulates the Campaign Management REST operation
// POST /CampaignManagement/v13/OfflineConversions/Apply.
type microsoftOfflineAPI struct{ bearerEmulator }

func newMicrosoftOfflineAPI(e emulatorEnv) platform {
	return &microsoftOfflineAPI{newBearerEmulator(e, microsoftOfflineName)}
}

// MicrosoftOffline returns the recorder of the offline conversions the
// Campaign Management emulator accepted.
func (s *Server) MicrosoftOffline() *Recorder {
	return emulator[*microsoftOfflineAPI](s, microsoftOfflineName).rec
}

func (m *microsoftOfflineAPI) name() string { return microsoftOfflineName }

func (m *microsoftOfflineAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/CampaignManagement/v13/OfflineConversions/Apply", handler: m.serve}}
}

// bingOpError is a Bing Ads API OperationError or BatchError.
type bingOpError struct {
	Code      int    `json:"Code"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
	Index     *int   `json:"Index,omitempty"`
	Type      string `json:"Type"`
}

// bingFault is an ApiFault: the request failed as a whole.
type bingFault struct {
	status int
	err    bingOpError
}

func writeBingFault(w http.ResponseWriter, f *bingFault) {
	id := newTraceID()
	w.Header().Set("TrackingId", id)
	f.err.Type = "OperationError"
	writeJSON(w, f.status, map[string]any{"TrackingId": id, "Type": "ApiFault", "OperationErrors": []bingOpError{f.err}, "BatchErrors": []bingOpError{}})
}

func (m *microsoftOfflineAPI) writeFault(w http.ResponseWriter, f Fault) {
	e := bingOpError{Code: 0, ErrorCode: "InternalError", Message: "injected by the signalpipe sandbox (HTTP " + strconv.Itoa(f.Status) + ")"}
	switch {
	case f.Status == http.StatusTooManyRequests:
		e.Code, e.ErrorCode = 117, "CallRateExceeded"
	case f.Status == http.StatusUnauthorized:
		e.Code, e.ErrorCode = 109, "AuthenticationTokenExpired"
	case f.Status < 500:
		e.Code, e.ErrorCode = 100, "InvalidRequest"
	}
	writeBingFault(w, &bingFault{status: f.Status, err: e})
}

func (m *microsoftOfflineAPI) serve(w http.ResponseWriter, r *http.Request) {
	partial, fault := m.accept(w, r)
	if fault != nil {
		m.rec.log.rejected.Add(1)
		m.logger.Debug("sandbox rejected request", "status", fault.status, "code", fault.err.ErrorCode)
		writeBingFault(w, fault)
		return
	}
	id := newTraceID()
	w.Header().Set("TrackingId", id)
	var pe any // null when every conversion was applied, as the API answers
	if len(partial) > 0 {
		pe = partial
	}
	writeJSON(w, http.StatusOK, map[string]any{"PartialErrors": pe})
}

func opFault(status, code int, errorCode, msg string) *bingFault {
	return &bingFault{status: status, err: bingOpError{Code: code, ErrorCode: errorCode, Message: msg}}
}

// accept checks the headers and the conversions, records the valid ones and
// returns a PartialError for each invalid one.
func (m *microsoftOfflineAPI) accept(w http.ResponseWriter, r *http.Request) ([]bingOpError, *bingFault) {
	now := m.clock()
	switch checkBearer(r, m.token) {
	case bearerMissing:
		return nil, opFault(http.StatusUnauthorized, 105, "InvalidCredentials", "Authentication failed: the OAuth access token is missing.")
	case bearerWrong:
		return nil, opFault(http.StatusUnauthorized, 109, "AuthenticationTokenExpired", "Authentication token expired or invalid. Please renew it.")
	}
	if strings.TrimSpace(r.Header.Get("DeveloperToken")) == "" {
		return nil, opFault(http.StatusUnauthorized, 105, "InvalidDeveloperToken", "The DeveloperToken header is required.")
	}
	if !offlineIDRe.MatchString(r.Header.Get("CustomerId")) {
		return nil, opFault(http.StatusBadRequest, 1102, "CustomerIdHasToBeSpecified", "The CustomerId header must be the numeric customer id.")
	}
	account := r.Header.Get("CustomerAccountId")
	if !offlineIDRe.MatchString(account) {
		return nil, opFault(http.StatusBadRequest, 1102, "InvalidAccount", "The CustomerAccountId header must be the numeric account id.")
	}
	if !isJSONContent(r) {
		return nil, opFault(http.StatusUnsupportedMediaType, 100, "InvalidRequest", "Content-Type must be application/json.")
	}
	body, tooLarge, err := readBody(w, r, offlineMaxBodyBytes)
	switch {
	case tooLarge:
		return nil, opFault(http.StatusRequestEntityTooLarge, 100, "RequestTooLarge", "The request body is too large.")
	case err != nil:
		return nil, opFault(http.StatusBadRequest, 100, "InvalidRequest", "Reading the request body failed.")
	}
	var req struct {
		OfflineConversions []map[string]any `json:"OfflineConversions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, opFault(http.StatusBadRequest, 100, "InvalidRequest", `The body must be {"OfflineConversions":[...]}.`)
	}
	switch n := len(req.OfflineConversions); {
	case n == 0:
		return nil, opFault(http.StatusBadRequest, 4809, "OfflineConversionsNullOrEmpty", "OfflineConversions must not be empty.")
	case n > offlineMaxBatch:
		return nil, opFault(http.StatusBadRequest, 4810, "OfflineConversionsLimitExceeded", "At most 1000 offline conversions per request.")
	}
	var recs []RecordedEvent
	var partial []bingOpError
	for i, oc := range req.OfflineConversions {
		rec, code, errorCode, msg := checkOfflineConversion(oc, now)
		if errorCode != "" {
			idx := i
			partial = append(partial, bingOpError{Code: code, ErrorCode: errorCode, Message: msg, Index: &idx, Type: "BatchError"})
			continue
		}
		raw, _ := json.Marshal(oc)
		rec.Account, rec.Raw, rec.ReceivedAt = account, raw, now
		recs = append(recs, rec)
	}
	m.add(recs)
	return partial, nil
}

// checkOfflineConversion checks one OfflineConversion; the error codes are
// the sandbox's (Microsoft publishes the names, the numbers are assigned
// here) and the messages never quote a value.
func checkOfflineConversion(oc map[string]any, now time.Time) (rec RecordedEvent, code int, errorCode, msg string) {
	clk, _ := oc["MicrosoftClickId"].(string)
	if clk == "" || len(clk) > 100 {
		return rec, 4801, "OfflineConversionMicrosoftClickIdInvalid", "MicrosoftClickId is required (at most 100 characters)."
	}
	name, _ := oc["ConversionName"].(string)
	if name == "" || len(name) > offlineMaxName {
		return rec, 4802, "OfflineConversionNameInvalid", "ConversionName is required: the offline conversion goal's name (at most 100 characters)."
	}
	ts, _ := oc["ConversionTime"].(string)
	at, err := time.Parse(time.RFC3339, ts)
	switch {
	case err != nil:
		return rec, 4803, "OfflineConversionTimeInvalid", "ConversionTime is required, as an ISO 8601 date and time in UTC."
	case at.Sub(now) > offlineFutureSkew:
		return rec, 4803, "OfflineConversionTimeInvalid", "ConversionTime is in the future."
	case now.Sub(at) > offlineMaxAge:
		return rec, 4804, "OfflineConversionTimeOutOfWindow", "ConversionTime is older than 90 days."
	}
	if v, present := oc["ConversionValue"]; present && v != nil {
		f, ok := v.(float64)
		if !ok || f < 0 || math.IsInf(f, 0) {
			return rec, 4805, "OfflineConversionValueInvalid", "ConversionValue must be a non-negative number."
		}
	}
	if v, present := oc["ConversionCurrencyCode"]; present && v != nil {
		if s, _ := v.(string); !uetCurrencyRe.MatchString(s) {
			return rec, 4806, "OfflineConversionCurrencyCodeInvalid", "ConversionCurrencyCode must be an upper-case ISO 4217 code."
		}
	}
	// Microsoft ignores a second conversion with the same click id and
	// time: the dedupe key is both.
	return RecordedEvent{EventID: clk + "@" + at.UTC().Format(time.RFC3339), EventName: name}, 0, "", ""
}
