package google

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// Event is one Data Manager API event.
type Event struct {
	DestinationReferences []string        `json:"destinationReferences,omitempty"`
	TransactionID         string          `json:"transactionId"`
	EventTimestamp        string          `json:"eventTimestamp"`
	EventSource           string          `json:"eventSource"`
	UserData              *UserData       `json:"userData,omitempty"`
	Consent               *Consent        `json:"consent,omitempty"`
	AdIdentifiers         *AdIdentifiers  `json:"adIdentifiers,omitempty"`
	Currency              string          `json:"currency,omitempty"`
	ConversionValue       *float64        `json:"conversionValue,omitempty"`
	UserProperties        *UserProperties `json:"userProperties,omitempty"`
}

// UserProperties is what the advertiser knows of the customer when the
// event happened: new or returning, and a value bucket.
type UserProperties struct {
	CustomerType        string `json:"customerType,omitempty"`
	CustomerValueBucket string `json:"customerValueBucket,omitempty"`
}

// Customer types and value buckets, as the Data Manager API spells them.
const (
	CustomerNew       = "NEW"
	CustomerReturning = "RETURNING"
	BucketLow         = "LOW"
	BucketMedium      = "MEDIUM"
	BucketHigh        = "HIGH"
)

// UserData holds at most ten identifiers, each with exactly one field set.
type UserData struct {
	UserIdentifiers []UserIdentifier `json:"userIdentifiers"`
}

// UserIdentifier is one of an e-mail, a phone or an address.
type UserIdentifier struct {
	EmailAddress string       `json:"emailAddress,omitempty"`
	PhoneNumber  string       `json:"phoneNumber,omitempty"`
	Address      *AddressInfo `json:"address,omitempty"`
}

// AddressInfo: names hashed, region and postal code as they are.
type AddressInfo struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	RegionCode string `json:"regionCode"`
	PostalCode string `json:"postalCode"`
}

// Consent is the user's consent for ad user data and personalization.
type Consent struct {
	AdUserData        string `json:"adUserData,omitempty"`
	AdPersonalization string `json:"adPersonalization,omitempty"`
}

// AdIdentifiers carries the click id.
type AdIdentifiers struct {
	Gclid  string `json:"gclid,omitempty"`
	Gbraid string `json:"gbraid,omitempty"`
	Wbraid string `json:"wbraid,omitempty"`
}

// eventSource maps our source to the Data Manager's.
func eventSource(s event.Source) string {
	switch s {
	case event.SourceWeb:
		return "WEB"
	case event.SourceApp:
		return "APP"
	}
	return "OTHER"
}

// consentStatus maps granted/denied to CONSENT_GRANTED/CONSENT_DENIED; any
// other value is left out (unspecified).
func consentStatus(v string) string {
	switch v {
	case event.ConsentGranted:
		return "CONSENT_GRANTED"
	case event.ConsentDenied:
		return "CONSENT_DENIED"
	}
	return ""
}

// Map builds the Data Manager event for ev. It is pure. The warnings name
// identifiers dropped because they could not be normalized (never values).
func (c Config) Map(ev *event.Event) (Event, []string, error) {
	if !c.Accepts(ev.EventName) {
		return Event{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for " + c.Name}
	}
	txn := ev.Properties.OrderID
	if txn == "" {
		txn = ev.EventID
	}
	out := Event{
		TransactionID:   txn,
		EventTimestamp:  ev.EventTime.UTC().Format(time.RFC3339Nano),
		EventSource:     eventSource(ev.Source),
		Currency:        strings.ToUpper(ev.Properties.Currency),
		ConversionValue: ev.Properties.Value,
	}
	if len(c.Actions()) > 1 {
		out.DestinationReferences = []string{Reference(c.ActionFor(ev.EventName))}
	}
	if cs := ev.Consent; cs != nil {
		gc := Consent{AdUserData: consentStatus(cs.AdUserData), AdPersonalization: consentStatus(cs.AdPersonalization)}
		if gc != (Consent{}) {
			out.Consent = &gc
		}
	}
	out.AdIdentifiers = adIdentifiers(ev)
	out.UserProperties = c.userProperties(ev.Enrichment)
	ud, warnings := c.userData(ev)
	if len(ud.UserIdentifiers) > 0 {
		out.UserData = &ud
	}
	if out.AdIdentifiers == nil && out.UserData == nil {
		return Event{}, warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "the event has no click id, e-mail, phone or complete address Google can match on"}
	}
	return out, warnings, nil
}

// userProperties maps the process stage's value signals: new_customer to
// NEW or RETURNING, the lifetime value to a bucket on the configured
// thresholds. Nil when neither is known.
func (c Config) userProperties(en *event.Enrichment) *UserProperties {
	if en == nil {
		return nil
	}
	var up UserProperties
	if nc := en.NewCustomer; nc != nil {
		up.CustomerType = CustomerReturning
		if *nc {
			up.CustomerType = CustomerNew
		}
	}
	if v := en.LifetimeValue; v != nil {
		up.CustomerValueBucket = c.ValueBuckets.Bucket(*v)
	}
	if up == (UserProperties{}) {
		return nil
	}
	return &up
}

// adIdentifiers is the one click id Google takes, or nil.
func adIdentifiers(ev *event.Event) *AdIdentifiers {
	switch kind, v := googleapi.ClickID(ev); kind {
	case "gclid":
		return &AdIdentifiers{Gclid: v}
	case "gbraid":
		return &AdIdentifiers{Gbraid: v}
	case "wbraid":
		return &AdIdentifiers{Wbraid: v}
	}
	return nil
}

// userData is the e-mail, the phone and, when all four of its parts are
// known, the address.
func (c Config) userData(ev *event.Event) (UserData, []string) {
	id, warnings := googleapi.NewIdentity(ev, c.DefaultPhoneRegion)
	var ud UserData
	if id.Email != "" {
		ud.UserIdentifiers = append(ud.UserIdentifiers, UserIdentifier{EmailAddress: id.Email})
	}
	if id.Phone != "" {
		ud.UserIdentifiers = append(ud.UserIdentifiers, UserIdentifier{PhoneNumber: id.Phone})
	}
	ai := AddressInfo{GivenName: id.FirstName, FamilyName: id.LastName, RegionCode: id.Country, PostalCode: id.Zip}
	if ai.GivenName != "" && ai.FamilyName != "" && ai.RegionCode != "" && ai.PostalCode != "" {
		ud.UserIdentifiers = append(ud.UserIdentifiers, UserIdentifier{Address: &ai})
	}
	return ud, warnings
}

// Reference is the destination reference of a conversion action, used when
// one request names several.
func Reference(actionID string) string { return "ca-" + actionID }

// MatchKeys lists the identifier kinds e carries; never values.
func MatchKeys(e *Event) []string {
	var keys []string
	if a := e.AdIdentifiers; a != nil {
		switch {
		case a.Gclid != "":
			keys = append(keys, "gclid")
		case a.Gbraid != "":
			keys = append(keys, "gbraid")
		case a.Wbraid != "":
			keys = append(keys, "wbraid")
		}
	}
	if e.UserData != nil {
		for _, id := range e.UserData.UserIdentifiers {
			switch {
			case id.EmailAddress != "":
				keys = append(keys, "email")
			case id.PhoneNumber != "":
				keys = append(keys, "phone")
			case id.Address != nil:
				keys = append(keys, "address")
			}
		}
	}
	return keys
}

// Prepare maps and encodes one event; the preview command uses it without a
// client.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	e, _, err := c.Map(ev)
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&e)}, nil
}

// requestDestination is one entry of the request's destinations.
type requestDestination struct {
	Reference            string   `json:"reference,omitempty"`
	OperatingAccount     account  `json:"operatingAccount"`
	LoginAccount         *account `json:"loginAccount,omitempty"`
	ProductDestinationID string   `json:"productDestinationId"`
}

type account struct {
	AccountType string `json:"accountType"`
	AccountID   string `json:"accountId"`
}

// header is the request body without its events.
type header struct {
	Destinations []requestDestination `json:"destinations"`
	Encoding     string               `json:"encoding"`
	ValidateOnly bool                 `json:"validateOnly,omitempty"`
}

// Body renders the request body for a batch, exactly as Send posts it.
func (c Config) Body(batch []destination.Prepared) []byte {
	h := header{Encoding: "HEX", ValidateOnly: c.ValidateOnly}
	actions := c.Actions()
	for _, id := range actions {
		d := requestDestination{
			OperatingAccount:     account{AccountType: "GOOGLE_ADS", AccountID: c.CustomerID},
			ProductDestinationID: id,
		}
		if len(actions) > 1 {
			d.Reference = Reference(id)
		}
		if c.LoginCustomerID != "" {
			d.LoginAccount = &account{AccountType: "GOOGLE_ADS", AccountID: c.LoginCustomerID}
		}
		h.Destinations = append(h.Destinations, d)
	}
	hb, _ := json.Marshal(h) // strings and bools only: cannot fail
	b := make([]byte, 0, len(hb)+destination.PayloadBytes(batch)+16)
	b = append(b, hb[:len(hb)-1]...)
	b = append(b, `,"events":`...)
	b = destination.AppendPayloads(b, batch)
	return append(b, '}')
}
