package sandbox

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
)

// Graph error subcodes the Meta emulator answers with; doc.go says where each
// comes from.
const (
	subcodeInvalidParameter  = 2804019
	subcodeTimestampTooOld   = 2804003
	subcodeTimestampInFuture = 2804004
	subcodeNotHashed         = 2804016
	subcodeNoCustomerInfo    = 2804050
	subcodeUnknownObject     = 33      // "Object with ID ... does not exist"
	subcodeThrottled         = 1487742 // with code 613
	subcodeUserThrottled     = 2446079 // with code 17
)

// graphError is a Graph API error: the HTTP status plus the body's "error"
// object, whose fields are all always present, as in Meta's envelope.
type graphError struct {
	status    int
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	UserTitle string `json:"error_user_title"`
	UserMsg   string `json:"error_user_msg"`
	TraceID   string `json:"fbtrace_id"`
	Transient bool   `json:"is_transient"`
}

// eventError rejects the batch because of the event at index i.
func eventError(i, subcode int, title, format string, args ...any) *graphError {
	return &graphError{
		status:    http.StatusBadRequest,
		Message:   "Invalid parameter",
		Type:      "OAuthException",
		Code:      100,
		Subcode:   subcode,
		UserTitle: title,
		UserMsg:   fmt.Sprintf("data[%d]: ", i) + fmt.Sprintf(format, args...),
	}
}

// paramError rejects the request for a problem outside any single event.
func paramError(title, msg string) *graphError {
	return &graphError{
		status:    http.StatusBadRequest,
		Message:   "(#100) " + msg,
		Type:      "OAuthException",
		Code:      100,
		UserTitle: title,
		UserMsg:   msg,
	}
}

func tokenError(msg string) *graphError {
	return &graphError{
		status:    http.StatusBadRequest,
		Message:   msg,
		Type:      "OAuthException",
		Code:      190,
		UserTitle: "Invalid Access Token",
		UserMsg:   msg,
	}
}

// faultError is the Graph error for an injected fault.
func faultError(f Fault) *graphError {
	code := f.MetaCode
	if code == 0 {
		switch {
		case f.Status == http.StatusTooManyRequests:
			code = 613
		case f.Status == http.StatusInternalServerError:
			code = 1
		case f.Status >= 500:
			code = 2
		case f.Status == http.StatusUnauthorized:
			code = 190
		case f.Status == http.StatusForbidden:
			code = 10
		default:
			code = 100
		}
	}
	e := &graphError{
		status:  f.Status,
		Type:    "OAuthException",
		Code:    code,
		UserMsg: fmt.Sprintf("injected by the signalpipe sandbox (HTTP %d)", f.Status),
	}
	switch code {
	case 1:
		e.Message, e.Transient = "An unknown error occurred", true
	case 2:
		e.Message, e.Transient = "An unexpected error has occurred. Please retry your request later.", true
	case 4:
		e.Message, e.Transient = "Application request limit reached", true
	case 17:
		e.Message, e.Subcode, e.Transient = "User request limit reached", subcodeUserThrottled, true
	case 32:
		e.Message, e.Transient = "Page request limit reached", true
	case 341:
		e.Message, e.Transient = "Application limit reached", true
	case 613:
		e.Message, e.Subcode, e.Transient = "Calls to this api have exceeded the rate limit.", subcodeThrottled, true
	case 10:
		e.Message = "Application does not have permission for this action"
	case 100:
		e.Message = "Invalid parameter"
	case 190:
		e.Message = "Invalid OAuth access token - Cannot parse access token"
	default:
		e.Message, e.Transient = fmt.Sprintf("(#%d) Injected error", code), f.Status >= 500
	}
	return e
}

// writeGraphError answers with e's status and Graph error envelope.
func writeGraphError(w http.ResponseWriter, e *graphError) {
	e.TraceID = newTraceID()
	body, err := json.Marshal(struct {
		Error *graphError `json:"error"`
	}{e})
	if err != nil { // cannot happen: only strings, ints and bools
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("X-Fb-Trace-Id", e.TraceID)
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// newTraceID returns a random fbtrace_id of the length Meta uses. It needs no
// reproducibility, so it draws from the runtime's shared source.
func newTraceID() string {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	return "A" + base64.RawURLEncoding.EncodeToString(raw[:])
}
