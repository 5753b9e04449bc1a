package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file holds what the Google emulators (google: the Data Manager API,
// google_ads: the Google Ads API, ga4: the Measurement Protocol) share: the
// OAuth 2.0 token endpoint and the google.rpc.Status error envelope. They
// record with the shared Recorder (recorded.go); requests in a validate
// mode record their events with Test set, which the real platforms would
// check and not store.

// googleTokenPath is the token endpoint's path (Google's is
// https://oauth2.googleapis.com/token).
const googleTokenPath = "/token"

// googleTokenLifetime is how long an issued access token is valid.
const googleTokenLifetime = time.Hour

// googleOAuth emulates Google's token endpoint. The access tokens it issues
// carry their expiry and an HMAC of it under a fixed sandbox key, so every
// sandbox (and every Google emulator in it) accepts the tokens any sandbox
// issued without sharing state: a test may fetch its token from one sandbox
// and send to another. The key is not a secret; this is an emulator.
type googleOAuth struct {
	clock func() time.Time
	// refreshToken, when set, is the only refresh token accepted.
	refreshToken string
}

// googleTokenKey signs sandbox access tokens.
const googleTokenKey = "signalpipe-sandbox-google-oauth"

func newGoogleOAuth(clock func() time.Time, refreshToken string) *googleOAuth {
	return &googleOAuth{clock: clock, refreshToken: refreshToken}
}

// serveToken implements the two grants signalpipe uses: refresh_token
// (client id, secret and refresh token in the form) and the service
// account's JWT bearer grant. The JWT's signature is not verified (the
// sandbox has no way to know the public key); its shape and claims are.
// Errors use OAuth's {"error", "error_description"} form.
func (o *googleOAuth) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "the body must be form-encoded"})
		return
	}
	now := o.clock()
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "refresh_token":
		id, secret, refresh := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), r.PostForm.Get("refresh_token")
		if u, p, ok := r.BasicAuth(); ok {
			id, secret = u, p
		}
		if id == "" || secret == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "client_id and client_secret are required"})
			return
		}
		if refresh == "" || (o.refreshToken != "" && subtle.ConstantTimeCompare([]byte(refresh), []byte(o.refreshToken)) != 1) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
			return
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if msg := checkAssertion(r.PostForm.Get("assertion"), now); msg != "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": msg})
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant_type " + gt + " is not supported"})
		return
	}
	token := issueToken(now.Add(googleTokenLifetime))
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": int(googleTokenLifetime / time.Second)})
}

// checkAssertion checks a service account JWT's shape and claims; it
// returns what is wrong, or "".
func checkAssertion(a string, now time.Time) string {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return "assertion must be a signed JWT"
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "assertion claims are not base64url"
	}
	var c struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Exp   int64  `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Iss == "" || c.Scope == "" || c.Aud == "" {
		return "assertion needs iss, scope and aud claims"
	}
	if c.Exp <= now.Unix() {
		return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
	}
	return ""
}

// issueToken returns an access token valid until exp.
func issueToken(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return "ya29.sbx." + e + "." + tokenMAC(e)
}

func tokenMAC(exp string) string {
	m := hmac.New(sha256.New, []byte(googleTokenKey))
	m.Write([]byte(exp))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// authorize reports whether r carries a bearer token a sandbox token
// endpoint issued and that has not expired on this sandbox's clock.
func (o *googleOAuth) authorize(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	rest, ok := strings.CutPrefix(tok, "ya29.sbx.")
	exp, mac, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || !hmac.Equal([]byte(mac), []byte(tokenMAC(exp))) {
		return false
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && o.clock().Unix() < e
}

// rpcStatus is a google.rpc.Status error answer.
type rpcStatus struct {
	httpStatus int
	status     string // canonical code name, e.g. INVALID_ARGUMENT
	message    string
	reason     string // ErrorInfo reason
	violations []fieldViolation
	// extra are further details (e.g. GoogleAdsFailure).
	extra []any
}

type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// errInvalid is INVALID_ARGUMENT naming the offending fields.
func errInvalid(msg string, v ...fieldViolation) *rpcStatus {
	return &rpcStatus{httpStatus: http.StatusBadRequest, status: "INVALID_ARGUMENT", message: msg, reason: "INVALID_ARGUMENT", violations: v}
}

// errUnauthenticated is Google's answer to a missing or unknown token.
func errUnauthenticated() *rpcStatus {
	return &rpcStatus{httpStatus: http.StatusUnauthorized, status: "UNAUTHENTICATED", reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED",
		message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."}
}

// writeRPCStatus answers with e's status and envelope.
func writeRPCStatus(w http.ResponseWriter, e *rpcStatus, domain string) {
	details := []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": e.reason, "domain": domain}}
	if len(e.violations) > 0 {
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": e.violations})
	}
	details = append(details, e.extra...)
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": hex.EncodeToString(raw[:])})
	writeJSON(w, e.httpStatus, map[string]any{"error": map[string]any{
		"code": e.httpStatus, "message": e.message, "status": e.status, "details": details,
	}})
}

// faultStatus is the rpc status for an injected fault.
func faultStatus(f Fault) *rpcStatus {
	name := map[int]string{
		400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
		409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
	}[f.Status]
	if name == "" {
		name = "UNKNOWN"
	}
	return &rpcStatus{httpStatus: f.Status, status: name, reason: name, message: "injected by the signalpipe sandbox"}
}

// rawJSONOf is v's JSON, for RecordedEvent.Raw; v is a decoded request part,
// so it always encodes.
func rawJSONOf(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// decodeStrict decodes a JSON body refusing unknown fields, as Google's
// JSON transcoding does ("Invalid JSON payload received. Unknown name").
func decodeStrict(body []byte, v any) *rpcStatus {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errInvalid("Invalid JSON payload received. " + err.Error())
	}
	return nil
}

// isLowerHex64 reports whether s is a lowercase hex SHA-256 digest.
func isLowerHex64(s string) bool { return isLowerSHA256Hex([]byte(s)) }
