package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

const googleName = "google"

// Limits of the Data Manager API's events:ingest (platform-apis.md §2b).
const (
	googleMaxBodyBytes    = 10 << 20
	googleMaxEvents       = 2000
	googleMaxDestinations = 10
	googleMaxIdentifiers  = 10
	// googleMaxEventAge is the longest click-through lookback window.
	googleMaxEventAge = 90 * 24 * time.Hour
	googleFutureSkew  = 5 * time.Minute
	googleErrorDomain = "datamanager.googleapis.com"
)

// googleAPI emulates POST /v1/events:ingest of the Data Manager API and
// serves the shared OAuth token endpoint at /token.
type googleAPI struct {
	clock  func() time.Time
	oauth  *googleOAuth
	logger *slog.Logger
	recording
}

func newGoogleAPI(clock func() time.Time, oauth *googleOAuth, logger *slog.Logger, maxRecorded int) *googleAPI {
	return &googleAPI{clock: clock, oauth: oauth, logger: logger.With("platform", googleName), recording: recording{rec: newRecorder(maxRecorded)}}
}

func (g *googleAPI) name() string { return googleName }

func (g *googleAPI) routes() []route {
	return []route{
		{method: http.MethodPost, path: "/v1/events:ingest", handler: g.serveIngest},
		{method: http.MethodPost, path: googleTokenPath, handler: g.oauth.serveToken},
	}
}

func (g *googleAPI) writeFault(w http.ResponseWriter, f Fault) {
	writeRPCStatus(w, faultStatus(f), googleErrorDomain)
}

// The request as the emulator decodes it: unknown fields are refused.
type dmRequest struct {
	Destinations []dmDestination `json:"destinations"`
	Events       []dmEvent       `json:"events"`
	Consent      *dmConsent      `json:"consent"`
	ValidateOnly bool            `json:"validateOnly"`
	Encoding     string          `json:"encoding"`
}

type dmDestination struct {
	Reference            string     `json:"reference"`
	OperatingAccount     *dmAccount `json:"operatingAccount"`
	LoginAccount         *dmAccount `json:"loginAccount"`
	LinkedAccount        *dmAccount `json:"linkedAccount"`
	ProductDestinationID string     `json:"productDestinationId"`
}

type dmAccount struct {
	AccountType string `json:"accountType"`
	AccountID   string `json:"accountId"`
}

type dmEvent struct {
	DestinationReferences []string         `json:"destinationReferences"`
	TransactionID         string           `json:"transactionId"`
	EventTimestamp        string           `json:"eventTimestamp"`
	EventSource           string           `json:"eventSource"`
	UserData              *dmUserData      `json:"userData"`
	Consent               *dmConsent       `json:"consent"`
	AdIdentifiers         *dmAdIdentifiers `json:"adIdentifiers"`
	Currency              string           `json:"currency"`
	ConversionValue       *float64         `json:"conversionValue"`
	UserProperties        *dmUserProps     `json:"userProperties"`
}

// dmUserProps is what the advertiser assessed about the customer.
type dmUserProps struct {
	CustomerType        string `json:"customerType"`
	CustomerValueBucket string `json:"customerValueBucket"`
}

type dmUserData struct {
	UserIdentifiers []dmIdentifier `json:"userIdentifiers"`
}

type dmIdentifier struct {
	EmailAddress string     `json:"emailAddress"`
	PhoneNumber  string     `json:"phoneNumber"`
	Address      *dmAddress `json:"address"`
}

type dmAddress struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	RegionCode string `json:"regionCode"`
	PostalCode string `json:"postalCode"`
}

type dmConsent struct {
	AdUserData        string `json:"adUserData"`
	AdPersonalization string `json:"adPersonalization"`
}

type dmAdIdentifiers struct {
	Gclid  string `json:"gclid"`
	Gbraid string `json:"gbraid"`
	Wbraid string `json:"wbraid"`
}

func (g *googleAPI) serveIngest(w http.ResponseWriter, r *http.Request) {
	e := g.accept(w, r)
	if e != nil {
		g.rec.log.rejected.Add(1)
		g.logger.Debug("sandbox rejected request", "status", e.status, "reason", e.message)
		writeRPCStatus(w, e, googleErrorDomain)
		return
	}
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	writeJSON(w, http.StatusOK, map[string]string{"requestId": hex.EncodeToString(raw[:])})
}

// accept checks the request (fast-fail: any violation refuses all of it) and
// records its events (as Test events when validateOnly).
func (g *googleAPI) accept(w http.ResponseWriter, r *http.Request) *rpcStatus {
	if !g.oauth.authorize(r) {
		return errUnauthenticated()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, googleMaxBodyBytes))
	if err != nil {
		return errInvalid(fmt.Sprintf("Request payload size exceeds the limit: %d bytes.", googleMaxBodyBytes))
	}
	var req dmRequest
	if e := decodeStrict(body, &req); e != nil {
		return e
	}
	now := g.clock()
	v := checkDMRequest(&req, now)
	if len(v) > 0 {
		return errInvalid("Request contains an invalid argument.", v...)
	}
	account := req.Destinations[0].OperatingAccount.AccountID
	evs := make([]RecordedEvent, len(req.Events))
	for i, e := range req.Events {
		evs[i] = RecordedEvent{Account: account, EventID: e.TransactionID, Test: req.ValidateOnly, Raw: rawJSONOf(e), ReceivedAt: now}
	}
	g.add(evs)
	return nil
}

// checkDMRequest applies the contract; it returns every violation found (at
// most 20), each naming the field by its JSON path, never its value.
func checkDMRequest(req *dmRequest, now time.Time) []fieldViolation {
	var v []fieldViolation
	bad := func(field, format string, args ...any) {
		if len(v) < 20 {
			v = append(v, fieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
		}
	}
	switch n := len(req.Destinations); {
	case n == 0:
		bad("destinations", "at least one destination is required")
	case n > googleMaxDestinations:
		bad("destinations", "at most %d destinations per request", googleMaxDestinations)
	}
	var refs []string
	for i, d := range req.Destinations {
		f := fmt.Sprintf("destinations[%d]", i)
		if d.OperatingAccount == nil || d.OperatingAccount.AccountID == "" || !isDigits(d.OperatingAccount.AccountID) {
			bad(f+".operatingAccount.accountId", "required: the account id as digits")
		} else if !slices.Contains([]string{"GOOGLE_ADS", "DISPLAY_VIDEO_PARTNER", "DISPLAY_VIDEO_ADVERTISER", "DATA_PARTNER", "GOOGLE_ANALYTICS_PROPERTY"}, d.OperatingAccount.AccountType) {
			bad(f+".operatingAccount.accountType", "unknown account type")
		}
		if d.LoginAccount != nil && (d.LoginAccount.AccountID == "" || !isDigits(d.LoginAccount.AccountID)) {
			bad(f+".loginAccount.accountId", "must be the account id as digits")
		}
		if d.ProductDestinationID == "" {
			bad(f+".productDestinationId", "required: the conversion action id")
		}
		if d.Reference != "" {
			refs = append(refs, d.Reference)
		}
	}
	switch n := len(req.Events); {
	case n == 0:
		bad("events", "at least one event is required")
	case n > googleMaxEvents:
		bad("events", "at most %d events per request, got %d", googleMaxEvents, n)
		return v
	}
	hasUserData := false
	for i := range req.Events {
		e := &req.Events[i]
		f := fmt.Sprintf("events[%d]", i)
		for _, ref := range e.DestinationReferences {
			if !slices.Contains(refs, ref) {
				bad(f+".destinationReferences", "refers to no destination of the request")
			}
		}
		t, err := time.Parse(time.RFC3339Nano, e.EventTimestamp)
		switch {
		case e.EventTimestamp == "":
			bad(f+".eventTimestamp", "required")
		case err != nil:
			bad(f+".eventTimestamp", "must be an RFC 3339 timestamp")
		case now.Sub(t) > googleMaxEventAge:
			bad(f+".eventTimestamp", "older than the 90-day click lookback window (EXPIRED_EVENT)")
		case t.Sub(now) > googleFutureSkew:
			bad(f+".eventTimestamp", "in the future")
		}
		if !slices.Contains([]string{"", "WEB", "APP", "IN_STORE", "PHONE", "OTHER"}, e.EventSource) {
			bad(f+".eventSource", "must be WEB, APP, IN_STORE, PHONE or OTHER")
		}
		if e.Currency != "" && !isCurrency(e.Currency) {
			bad(f+".currency", "must be an upper-case ISO 4217 code")
		}
		if e.ConversionValue != nil && *e.ConversionValue < 0 {
			bad(f+".conversionValue", "must not be negative")
		}
		if u := e.UserProperties; u != nil {
			if !slices.Contains([]string{"", "CUSTOMER_TYPE_UNSPECIFIED", "NEW", "RETURNING", "REENGAGED"}, u.CustomerType) {
				bad(f+".userProperties.customerType", "must be NEW, RETURNING or REENGAGED")
			}
			if !slices.Contains([]string{"", "CUSTOMER_VALUE_BUCKET_UNSPECIFIED", "LOW", "MEDIUM", "HIGH"}, u.CustomerValueBucket) {
				bad(f+".userProperties.customerValueBucket", "must be LOW, MEDIUM or HIGH")
			}
		}
		checkDMConsent(e.Consent, f+".consent", bad)
		if a := e.AdIdentifiers; a != nil {
			n := 0
			for _, id := range []string{a.Gclid, a.Gbraid, a.Wbraid} {
				if id != "" {
					n++
				}
			}
			if n > 1 {
				bad(f+".adIdentifiers", "set at most one of gclid, gbraid and wbraid (GBRAID_WBRAID_BOTH_SET)")
			}
		}
		idents := 0
		if u := e.UserData; u != nil {
			hasUserData = true
			idents = len(u.UserIdentifiers)
			if idents > googleMaxIdentifiers {
				bad(f+".userData.userIdentifiers", "at most %d identifiers", googleMaxIdentifiers)
			}
			for j, id := range u.UserIdentifiers {
				checkDMIdentifier(id, fmt.Sprintf("%s.userData.userIdentifiers[%d]", f, j), bad)
			}
		}
		if idents == 0 && (e.AdIdentifiers == nil || *e.AdIdentifiers == (dmAdIdentifiers{})) {
			bad(f, "needs an ad identifier or user data to be matched")
		}
	}
	if hasUserData && req.Encoding != "HEX" && req.Encoding != "BASE64" {
		bad("encoding", "required (HEX or BASE64) when events carry user data")
	}
	if req.Encoding == "BASE64" {
		bad("encoding", "the sandbox checks HEX only")
	}
	checkDMConsent(req.Consent, "consent", bad)
	return v
}

func checkDMConsent(c *dmConsent, f string, bad func(string, string, ...any)) {
	if c == nil {
		return
	}
	ok := []string{"", "CONSENT_GRANTED", "CONSENT_DENIED"}
	if !slices.Contains(ok, c.AdUserData) {
		bad(f+".adUserData", "must be CONSENT_GRANTED or CONSENT_DENIED")
	}
	if !slices.Contains(ok, c.AdPersonalization) {
		bad(f+".adPersonalization", "must be CONSENT_GRANTED or CONSENT_DENIED")
	}
}

// checkDMIdentifier: exactly one field; hashed fields are lowercase hex
// SHA-256; region and postal code are plain.
func checkDMIdentifier(id dmIdentifier, f string, bad func(string, string, ...any)) {
	set := 0
	if id.EmailAddress != "" {
		set++
		if !isLowerHex64(id.EmailAddress) {
			bad(f+".emailAddress", "must be a SHA-256 digest as 64 lowercase hex characters")
		}
	}
	if id.PhoneNumber != "" {
		set++
		if !isLowerHex64(id.PhoneNumber) {
			bad(f+".phoneNumber", "must be a SHA-256 digest of the E.164 number as 64 lowercase hex characters")
		}
	}
	if a := id.Address; a != nil {
		set++
		if !isLowerHex64(a.GivenName) {
			bad(f+".address.givenName", "required, hashed: 64 lowercase hex characters")
		}
		if !isLowerHex64(a.FamilyName) {
			bad(f+".address.familyName", "required, hashed: 64 lowercase hex characters")
		}
		if len(a.RegionCode) != 2 || !isUpperAlpha(a.RegionCode) {
			bad(f+".address.regionCode", "required: an ISO 3166-1 alpha-2 code, not hashed")
		}
		if a.PostalCode == "" || looksHashed(a.PostalCode) {
			bad(f+".address.postalCode", "required, not hashed")
		}
	}
	if set != 1 {
		bad(f, "exactly one of emailAddress, phoneNumber and address must be set")
	}
}

func isUpperAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

func isCurrency(s string) bool { return len(s) == 3 && isUpperAlpha(s) }
