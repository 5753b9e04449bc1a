package linkedin

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// LinkedIn's user id types.
const (
	IDTypeEmail    = "SHA256_EMAIL"
	IDTypeLiFatID  = "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID"
	IDTypeAcxiom   = "ACXIOM_ID"
	IDTypeMoat     = "ORACLE_MOAT_ID"
	matchKeyUserIn = "userInfo"
)

// ConversionEvent is one element of a conversionEvents BATCH_CREATE.
type ConversionEvent struct {
	Conversion           string `json:"conversion"`
	ConversionHappenedAt int64  `json:"conversionHappenedAt"`
	ConversionValue      *Money `json:"conversionValue,omitempty"`
	EventID              string `json:"eventId,omitempty"`
	User                 User   `json:"user"`
}

// Money is LinkedIn's currency amount; the amount is a decimal string.
type Money struct {
	CurrencyCode string `json:"currencyCode"`
	Amount       string `json:"amount"`
}

// User identifies the person who converted.
type User struct {
	UserIDs  []UserID  `json:"userIds"`
	UserInfo *UserInfo `json:"userInfo,omitempty"`
}

// UserID is one typed identifier.
type UserID struct {
	IDType  string `json:"idType"`
	IDValue string `json:"idValue"`
}

// UserInfo is the person's name and country in plain text; LinkedIn
// documents these as not hashed.
type UserInfo struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	CountryCode string `json:"countryCode,omitempty"`
}

// Map builds the conversion event for ev. It is pure: same event, same
// payload. The warnings name identifiers that were dropped because they
// could not be normalized (never their values).
func (c Config) Map(ev *event.Event) (ConversionEvent, []string, error) {
	urn, ok := c.ConversionURN(ev.EventName)
	if !ok || !c.Accepts(ev.EventName) {
		return ConversionEvent{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " has no linkedin conversion rule"}
	}
	if len(ev.EventID) > MaxEventIDLength {
		return ConversionEvent{}, nil, &destination.PermanentError{Reason: "invalid_event_id", Detail: "event_id is longer than LinkedIn's 64 characters"}
	}
	ce := ConversionEvent{
		Conversion:           urn,
		ConversionHappenedAt: ev.EventTime.UnixMilli(),
		EventID:              ev.EventID,
	}
	var warnings []string
	u := &ce.User
	if ev.User.Email != "" {
		if _, h, err := pii.Hash(pii.LinkedIn, pii.Email, ev.User.Email, pii.Options{}); err != nil {
			warnings = append(warnings, err.Error())
		} else {
			u.UserIDs = append(u.UserIDs, UserID{IDType: IDTypeEmail, IDValue: h})
		}
	}
	if id := strings.TrimSpace(ev.Context.ClickIDs.LiFatID); id != "" {
		// The click id is opaque and case-sensitive: sent as captured.
		u.UserIDs = append(u.UserIDs, UserID{IDType: IDTypeLiFatID, IDValue: id})
	}
	first, last := strings.TrimSpace(ev.User.FirstName), strings.TrimSpace(ev.User.LastName)
	if first != "" && last != "" {
		u.UserInfo = &UserInfo{FirstName: first, LastName: last}
		if a := ev.User.Address; a != nil && len(strings.TrimSpace(a.Country)) == 2 {
			u.UserInfo.CountryCode = strings.ToUpper(strings.TrimSpace(a.Country))
		}
	}
	if len(u.UserIDs) == 0 {
		return ConversionEvent{}, warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "LinkedIn needs a hashed email or an li_fat_id click id"}
	}
	if p := ev.Properties; p.Value != nil && p.Currency != "" {
		ce.ConversionValue = &Money{CurrencyCode: strings.ToUpper(p.Currency), Amount: strconv.FormatFloat(*p.Value, 'f', -1, 64)}
	}
	return ce, warnings, nil
}

// MatchKeys lists the identifier kinds present in u.
func MatchKeys(u *User) []string {
	keys := make([]string, 0, len(u.UserIDs)+1)
	for _, id := range u.UserIDs {
		keys = append(keys, id.IDType)
	}
	if u.UserInfo != nil {
		keys = append(keys, matchKeyUserIn)
	}
	return keys
}

// encode renders one conversion event.
func encode(ce ConversionEvent) ([]byte, error) { return json.Marshal(ce) }
