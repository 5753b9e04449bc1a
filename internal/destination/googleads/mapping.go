package googleads

import (
	"encoding/json"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// ClickConversion is one row of UploadClickConversions (REST field names).
type ClickConversion struct {
	Gclid              string           `json:"gclid,omitempty"`
	Gbraid             string           `json:"gbraid,omitempty"`
	Wbraid             string           `json:"wbraid,omitempty"`
	ConversionAction   string           `json:"conversionAction"`
	ConversionDateTime string           `json:"conversionDateTime"`
	ConversionValue    *float64         `json:"conversionValue,omitempty"`
	CurrencyCode       string           `json:"currencyCode,omitempty"`
	OrderID            string           `json:"orderId,omitempty"`
	UserIdentifiers    []UserIdentifier `json:"userIdentifiers,omitempty"`
	Consent            *Consent         `json:"consent,omitempty"`
}

// ConversionAdjustment is one row of UploadConversionAdjustments.
type ConversionAdjustment struct {
	ConversionAction   string            `json:"conversionAction"`
	AdjustmentType     string            `json:"adjustmentType"`
	AdjustmentDateTime string            `json:"adjustmentDateTime"`
	OrderID            string            `json:"orderId"`
	RestatementValue   *RestatementValue `json:"restatementValue,omitempty"`
	UserIdentifiers    []UserIdentifier  `json:"userIdentifiers,omitempty"`
	UserAgent          string            `json:"userAgent,omitempty"`
}

// RestatementValue is a restatement's new value.
type RestatementValue struct {
	AdjustedValue float64 `json:"adjustedValue"`
	CurrencyCode  string  `json:"currencyCode,omitempty"`
}

// UserIdentifier is a oneof: one field per identifier.
type UserIdentifier struct {
	HashedEmail       string       `json:"hashedEmail,omitempty"`
	HashedPhoneNumber string       `json:"hashedPhoneNumber,omitempty"`
	AddressInfo       *AddressInfo `json:"addressInfo,omitempty"`
}

// AddressInfo is an enhancement's address: names and street hashed, the
// rest plain.
type AddressInfo struct {
	HashedFirstName     string `json:"hashedFirstName,omitempty"`
	HashedLastName      string `json:"hashedLastName,omitempty"`
	HashedStreetAddress string `json:"hashedStreetAddress,omitempty"`
	City                string `json:"city,omitempty"`
	State               string `json:"state,omitempty"`
	CountryCode         string `json:"countryCode,omitempty"`
	PostalCode          string `json:"postalCode,omitempty"`
}

// Consent is the click conversion's consent; only adUserData is allowed.
type Consent struct {
	AdUserData string `json:"adUserData"`
}

// actionName is the conversion action's resource name.
func (c Config) actionName(eventName string) string {
	return "customers/" + c.CustomerID + "/conversionActions/" + c.ActionFor(eventName)
}

// contact is the e-mail and phone identifiers, the only ones click
// conversions take.
func contact(id googleapi.Identity) []UserIdentifier {
	var out []UserIdentifier
	if id.Email != "" {
		out = append(out, UserIdentifier{HashedEmail: id.Email})
	}
	if id.Phone != "" {
		out = append(out, UserIdentifier{HashedPhoneNumber: id.Phone})
	}
	return out
}

// MapClick builds the click conversion row for ev. It is pure.
func (c Config) MapClick(ev *event.Event) (ClickConversion, []string, error) {
	if err := c.accepts(ev); err != nil {
		return ClickConversion{}, nil, err
	}
	order := ev.Properties.OrderID
	if order == "" {
		order = ev.EventID
	}
	cc := ClickConversion{
		ConversionAction:   c.actionName(ev.EventName),
		ConversionDateTime: googleapi.DateTime(ev.EventTime),
		ConversionValue:    ev.Properties.Value,
		CurrencyCode:       strings.ToUpper(ev.Properties.Currency),
		OrderID:            order,
	}
	switch kind, v := googleapi.ClickID(ev); kind {
	case "gclid":
		cc.Gclid = v
	case "gbraid":
		cc.Gbraid = v
	case "wbraid":
		cc.Wbraid = v
	}
	id, warnings := googleapi.NewIdentity(ev, c.DefaultPhoneRegion)
	cc.UserIdentifiers = contact(id)
	if cs := ev.Consent; cs != nil {
		switch cs.AdUserData {
		case event.ConsentGranted:
			cc.Consent = &Consent{AdUserData: "GRANTED"}
		case event.ConsentDenied:
			cc.Consent = &Consent{AdUserData: "DENIED"}
		}
	}
	if cc.Gclid == "" && cc.Gbraid == "" && cc.Wbraid == "" && len(cc.UserIdentifiers) == 0 {
		return ClickConversion{}, warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "the event has no click id, e-mail or phone to attribute it by"}
	}
	return cc, warnings, nil
}

// MapAdjustment builds the adjustment row for ev. It is pure.
func (c Config) MapAdjustment(ev *event.Event) (ConversionAdjustment, []string, error) {
	if err := c.accepts(ev); err != nil {
		return ConversionAdjustment{}, nil, err
	}
	if ev.Properties.OrderID == "" {
		return ConversionAdjustment{}, nil, &destination.PermanentError{Reason: "missing_order_id", Detail: "adjustments name the original conversion by its order id"}
	}
	typ := c.AdjustmentTypes[ev.EventName]
	ca := ConversionAdjustment{
		ConversionAction:   c.actionName(ev.EventName),
		AdjustmentType:     typ,
		AdjustmentDateTime: googleapi.DateTime(ev.EventTime),
		OrderID:            ev.Properties.OrderID,
	}
	var warnings []string
	switch typ {
	case Restatement:
		if ev.Properties.Value == nil {
			return ConversionAdjustment{}, nil, &destination.PermanentError{Reason: "missing_value", Detail: "a restatement needs the new value"}
		}
		ca.RestatementValue = &RestatementValue{AdjustedValue: *ev.Properties.Value, CurrencyCode: strings.ToUpper(ev.Properties.Currency)}
	case Enhancement:
		var id googleapi.Identity
		id, warnings = googleapi.NewIdentity(ev, c.DefaultPhoneRegion)
		ca.UserIdentifiers = contact(id)
		ai := AddressInfo{HashedFirstName: id.FirstName, HashedLastName: id.LastName, HashedStreetAddress: id.Street,
			City: id.City, State: id.State, CountryCode: id.Country, PostalCode: id.Zip}
		if ai != (AddressInfo{}) {
			ca.UserIdentifiers = append(ca.UserIdentifiers, UserIdentifier{AddressInfo: &ai})
		}
		ca.UserAgent = ev.Context.UserAgent
		if len(ca.UserIdentifiers) == 0 {
			return ConversionAdjustment{}, warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "an enhancement needs an e-mail, phone or address"}
		}
	}
	return ca, warnings, nil
}

func (c Config) accepts(ev *event.Event) error {
	if !c.Accepts(ev.EventName) {
		return &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for " + c.Name}
	}
	return nil
}

// Prepare maps and encodes one event as a row of the entry's upload kind.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	var row any
	var keys []string
	if c.Upload == UploadAdjustments {
		ca, _, err := c.MapAdjustment(ev)
		if err != nil {
			return destination.Prepared{}, err
		}
		row, keys = ca, append([]string{"order_id"}, identifierKeys(ca.UserIdentifiers)...)
	} else {
		cc, _, err := c.MapClick(ev)
		if err != nil {
			return destination.Prepared{}, err
		}
		row = cc
		for _, k := range []struct{ name, v string }{{"gclid", cc.Gclid}, {"gbraid", cc.Gbraid}, {"wbraid", cc.Wbraid}} {
			if k.v != "" {
				keys = append(keys, k.name)
			}
		}
		keys = append(keys, identifierKeys(cc.UserIdentifiers)...)
	}
	b, err := json.Marshal(row)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: keys}, nil
}

func identifierKeys(ids []UserIdentifier) []string {
	var keys []string
	for _, id := range ids {
		switch {
		case id.HashedEmail != "":
			keys = append(keys, "email")
		case id.HashedPhoneNumber != "":
			keys = append(keys, "phone")
		case id.AddressInfo != nil:
			keys = append(keys, "address")
		}
	}
	return keys
}

// Body renders the request body for a batch, exactly as Send posts it.
func (c Config) Body(batch []destination.Prepared) []byte {
	key := `{"conversions":`
	if c.Upload == UploadAdjustments {
		key = `{"conversionAdjustments":`
	}
	b := make([]byte, 0, destination.PayloadBytes(batch)+len(key)+64)
	b = append(b, key...)
	b = destination.AppendPayloads(b, batch)
	b = append(b, `,"partialFailure":true`...)
	if c.ValidateOnly {
		b = append(b, `,"validateOnly":true`...)
	}
	return append(b, '}')
}
