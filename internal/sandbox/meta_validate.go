package sandbox

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// metaWireEvent is one server event as the contract checks need it. Fields
// whose rules concern the JSON text itself (hashes, integer times, currency
// codes) use small types that inspect the raw bytes and never fail decoding,
// so every problem is reported by check with the event's index.
type metaWireEvent struct {
	EventName      string          `json:"event_name"`
	EventTime      unixSeconds     `json:"event_time"`
	EventID        string          `json:"event_id"`
	ActionSource   string          `json:"action_source"`
	EventSourceURL string          `json:"event_source_url"`
	UserData       *metaWireUser   `json:"user_data"`
	CustomData     *metaWireCustom `json:"custom_data"`
}

// metaWireUser holds the customer information parameters.
type metaWireUser struct {
	// Hashing required.
	Em      sha256Hex `json:"em"`
	Ph      sha256Hex `json:"ph"`
	Fn      sha256Hex `json:"fn"`
	Ln      sha256Hex `json:"ln"`
	Ge      sha256Hex `json:"ge"`
	Db      sha256Hex `json:"db"`
	Ct      sha256Hex `json:"ct"`
	St      sha256Hex `json:"st"`
	Zp      sha256Hex `json:"zp"`
	Country sha256Hex `json:"country"`

	// Must not be hashed.
	ClientIPAddress string `json:"client_ip_address"`
	ClientUserAgent string `json:"client_user_agent"`
	Fbc             string `json:"fbc"`
	Fbp             string `json:"fbp"`

	// Counted as customer information; no format rule.
	ExternalID       presence `json:"external_id"`
	SubscriptionID   presence `json:"subscription_id"`
	FBLoginID        presence `json:"fb_login_id"`
	LeadID           presence `json:"lead_id"`
	AnonID           presence `json:"anon_id"`
	Madid            presence `json:"madid"`
	PageID           presence `json:"page_id"`
	PageScopedUserID presence `json:"page_scoped_user_id"`
	CtwaClid         presence `json:"ctwa_clid"`
	IGAccountID      presence `json:"ig_account_id"`
	IGSid            presence `json:"ig_sid"`
}

type metaWireCustom struct {
	Currency currencyCode `json:"currency"`
	Value    jsonNumber   `json:"value"`
}

// decode fills e from the event's JSON, turning type mismatches into the
// Graph error for event i.
func (e *metaWireEvent) decode(i int, raw []byte) *graphError {
	err := json.Unmarshal(raw, e)
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return eventError(i, subcodeInvalidParameter, "Invalid Event", "an event must be a JSON object, not %s", te.Value)
		}
		return eventError(i, subcodeInvalidParameter, "Invalid Parameter Type",
			"%s must be a %s, not %s", te.Field, jsonTypeName(te.Type.Kind()), te.Value)
	}
	return eventError(i, subcodeInvalidParameter, "Invalid Event", "the event cannot be decoded")
}

// jsonTypeName names, in JSON terms, what a field of Go kind k expects.
func jsonTypeName(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Pointer, reflect.Map:
		return "JSON object"
	}
	return k.String()
}

// check applies the contract's rules to event i, in the order a client would
// fix them: what the event is, when, where from, who.
func (e *metaWireEvent) check(i int, now time.Time) *graphError {
	if e.EventName == "" {
		return eventError(i, subcodeInvalidParameter, "Missing Event Name", "event_name is required")
	}
	switch {
	case !e.EventTime.set:
		return eventError(i, subcodeInvalidParameter, "Missing Event Time", "event_time is required")
	case !e.EventTime.ok:
		return eventError(i, subcodeInvalidParameter, "Invalid Event Time",
			"event_time must be an integer Unix timestamp in seconds")
	}
	if e.ActionSource == "" {
		return eventError(i, subcodeInvalidParameter, "Missing Action Source", "action_source is required")
	}
	if !isMetaActionSource(e.ActionSource) {
		return eventError(i, subcodeInvalidParameter, "Invalid Action Source",
			"action_source must be one of website, app, physical_store, email, phone_call, chat, "+
				"system_generated, business_messaging, other")
	}

	maxAge := metaMaxEventAge
	if e.ActionSource == "physical_store" {
		maxAge = metaMaxStoreAge
	}
	if oldest := now.Add(-maxAge).Unix(); e.EventTime.v < oldest {
		return eventError(i, subcodeTimestampTooOld, "Event Timestamp Too Old",
			"The timestamp for this event is too far in the past: event_time %d is before %d "+
				"(%s before the server's time). Events must be sent within that window.",
			e.EventTime.v, oldest, formatDays(maxAge))
	}
	if latest := now.Add(metaFutureSkew).Unix(); e.EventTime.v > latest {
		return eventError(i, subcodeTimestampInFuture, "Event Timestamp In The Future",
			"The timestamp for this event is in the future: event_time %d is after %d (server time plus %s).",
			e.EventTime.v, latest, metaFutureSkew)
	}

	website := e.ActionSource == "website"
	if website && e.EventSourceURL == "" {
		return eventError(i, subcodeInvalidParameter, "Missing Event Source URL",
			"website events require event_source_url")
	}
	u := e.UserData
	if u == nil {
		return eventError(i, subcodeInvalidParameter, "Missing User Data", "user_data is required")
	}
	if website && u.ClientUserAgent == "" {
		return eventError(i, subcodeInvalidParameter, "Missing Client User Agent",
			"website events require user_data.client_user_agent")
	}
	if gerr := u.check(i); gerr != nil {
		return gerr
	}

	if c := e.CustomData; c != nil {
		if c.Currency.set && !c.Currency.ok {
			return eventError(i, subcodeInvalidParameter, "Invalid Currency",
				"custom_data.currency must be a three-letter ISO 4217 code")
		}
		if c.Value.set && !c.Value.ok {
			return eventError(i, subcodeInvalidParameter, "Invalid Value", "custom_data.value must be a number")
		}
	}
	if e.EventName == "Purchase" && (e.CustomData == nil || !e.CustomData.Currency.set || !e.CustomData.Value.set) {
		return eventError(i, subcodeInvalidParameter, "Missing Purchase Value",
			"Purchase events require custom_data.currency and custom_data.value")
	}
	return nil
}

// check applies the hashing rules and requires at least one customer
// information parameter.
func (u *metaWireUser) check(i int) *graphError {
	hashed := [...]struct {
		key string
		v   *sha256Hex
	}{
		{"em", &u.Em}, {"ph", &u.Ph}, {"fn", &u.Fn}, {"ln", &u.Ln}, {"ge", &u.Ge},
		{"db", &u.Db}, {"ct", &u.Ct}, {"st", &u.St}, {"zp", &u.Zp}, {"country", &u.Country},
	}
	params := 0
	for _, h := range hashed {
		if h.v.bad {
			return eventError(i, subcodeNotHashed, "User Parameter Not Hashed",
				"user_data.%s must be hashed: a SHA-256 digest as 64 lowercase hex characters, or a list of them", h.key)
		}
		params += h.v.n
	}

	plain := [...]struct{ key, v string }{
		{"client_ip_address", u.ClientIPAddress}, {"client_user_agent", u.ClientUserAgent},
		{"fbc", u.Fbc}, {"fbp", u.Fbp},
	}
	for _, p := range plain {
		if p.v == "" {
			continue
		}
		if looksHashed(p.v) {
			return eventError(i, subcodeInvalidParameter, "User Parameter Hashed",
				"user_data.%s must not be hashed; send the raw value", p.key)
		}
		params++
	}
	if u.ClientIPAddress != "" {
		if _, err := netip.ParseAddr(u.ClientIPAddress); err != nil {
			return eventError(i, subcodeInvalidParameter, "Invalid Client IP Address",
				"user_data.client_ip_address must be an IPv4 or IPv6 address")
		}
	}
	for _, p := range [...]struct{ key, v string }{{"fbc", u.Fbc}, {"fbp", u.Fbp}} {
		if p.v != "" && !isFBCookie(p.v) {
			return eventError(i, subcodeInvalidParameter, "Invalid "+strings.ToUpper(p.key),
				"user_data.%s must look like fb.<subdomain index>.<creation time>.<value>", p.key)
		}
	}

	for _, present := range [...]presence{
		u.ExternalID, u.SubscriptionID, u.FBLoginID, u.LeadID, u.AnonID, u.Madid,
		u.PageID, u.PageScopedUserID, u.CtwaClid, u.IGAccountID, u.IGSid,
	} {
		if present {
			params++
		}
	}
	if params == 0 {
		return eventError(i, subcodeNoCustomerInfo, "Insufficient Customer Information",
			"user_data has no customer information parameter; send at least one (em, ph, external_id, "+
				"client_ip_address, fbc, fbp, ...)")
	}
	return nil
}

func isMetaActionSource(s string) bool {
	switch s {
	case "website", "app", "physical_store", "email", "phone_call", "chat",
		"system_generated", "business_messaging", "other":
		return true
	}
	return false
}

// isFBCookie reports whether s has the _fbc/_fbp cookie shape
// fb.<subdomain index>.<creation time>.<value>.
func isFBCookie(s string) bool {
	rest, ok := strings.CutPrefix(s, "fb.")
	if !ok {
		return false
	}
	index, rest, ok := strings.Cut(rest, ".")
	if !ok || index == "" || !isDigits(index) {
		return false
	}
	created, value, ok := strings.Cut(rest, ".")
	return ok && created != "" && isDigits(created) && value != ""
}

// looksHashed reports whether s is a hex SHA-256 digest, in either case.
func looksHashed(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // fold A-F to a-f; digits are unaffected
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isLowerSHA256Hex reports whether b is exactly 64 lowercase hex characters.
func isLowerSHA256Hex(b []byte) bool {
	if len(b) != 64 {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func formatDays(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	if days == 1 {
		return "1 day"
	}
	return strconv.Itoa(days) + " days"
}

// unixSeconds is an event_time: a JSON integer, nothing else.
type unixSeconds struct {
	v       int64
	set, ok bool
}

// UnmarshalJSON records whether b is a JSON integer; it never fails.
func (u *unixSeconds) UnmarshalJSON(b []byte) error {
	*u = unixSeconds{set: string(b) != "null"}
	if !u.set {
		return nil
	}
	u.v, u.ok = parseJSONInt(b)
	return nil
}

// parseJSONInt parses an optionally negative run of at most 18 digits.
func parseJSONInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// sha256Hex is a hash-required user_data value: a digest or a list of them.
type sha256Hex struct {
	n   int  // digests present
	bad bool // something other than a lowercase hex SHA-256 digest
}

// UnmarshalJSON inspects b without allocating; it never fails.
func (h *sha256Hex) UnmarshalJSON(b []byte) error {
	*h = sha256Hex{}
	switch b[0] {
	case 'n': // null: absent
	case '"':
		if isLowerSHA256Hex(b[1 : len(b)-1]) {
			h.n = 1
		} else {
			h.bad = true
		}
	case '[':
		h.n, h.bad = countHexList(b)
	default:
		h.bad = true
	}
	return nil
}

// countHexList counts the digests in the valid JSON array b, reporting bad
// at the first element that is not a lowercase hex SHA-256 string. Escaped
// characters cannot occur in a digest, so a plain scan for quotes suffices.
func countHexList(b []byte) (n int, bad bool) {
	b = bytes.TrimSpace(b[1 : len(b)-1])
	for len(b) > 0 {
		if b[0] != '"' {
			return n, true
		}
		end := bytes.IndexByte(b[1:], '"')
		if end < 0 || !isLowerSHA256Hex(b[1:1+end]) {
			return n, true
		}
		n++
		b = bytes.TrimSpace(b[end+2:])
		if len(b) > 0 {
			if b[0] != ',' {
				return n, true
			}
			b = bytes.TrimSpace(b[1:])
		}
	}
	return n, false
}

// presence records whether a parameter carries a value.
type presence bool

// UnmarshalJSON treats null, "" and [] as absent; it never fails.
func (p *presence) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	*p = presence(s != "null" && s != `""` && s != "[]")
	return nil
}

// currencyCode is custom_data.currency: a three-letter code.
type currencyCode struct{ set, ok bool }

// UnmarshalJSON checks b without allocating; it never fails.
func (c *currencyCode) UnmarshalJSON(b []byte) error {
	*c = currencyCode{set: string(b) != "null"}
	c.ok = len(b) == 5 && b[0] == '"' && b[4] == '"' && isLetter(b[1]) && isLetter(b[2]) && isLetter(b[3])
	return nil
}

func isLetter(c byte) bool { c |= 0x20; return c >= 'a' && c <= 'z' }

// jsonNumber is a parameter that must be a JSON number.
type jsonNumber struct{ set, ok bool }

// UnmarshalJSON checks b's first byte; it never fails.
func (n *jsonNumber) UnmarshalJSON(b []byte) error {
	*n = jsonNumber{set: string(b) != "null"}
	n.ok = b[0] == '-' || (b[0] >= '0' && b[0] <= '9')
	return nil
}
