package microsoft

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// UETEvent is one UET Conversions API event.
type UETEvent struct {
	EventType        string      `json:"eventType"`
	EventID          string      `json:"eventId,omitempty"`
	EventName        string      `json:"eventName,omitempty"`
	EventTime        int64       `json:"eventTime"`
	ReferrerURL      string      `json:"referrerUrl,omitempty"`
	AdStorageConsent string      `json:"adStorageConsent,omitempty"`
	UserData         UserData    `json:"userData"`
	CustomData       *CustomData `json:"customData,omitempty"`
}

// UserData identifies the user: em and ph hashed, the rest as captured.
type UserData struct {
	Msclkid         string `json:"msclkid,omitempty"`
	Em              string `json:"em,omitempty"`
	Ph              string `json:"ph,omitempty"`
	ExternalID      string `json:"externalId,omitempty"`
	ClientIPAddress string `json:"clientIpAddress,omitempty"`
	ClientUserAgent string `json:"clientUserAgent,omitempty"`
}

// CustomData holds the business facts.
type CustomData struct {
	Value         *float64 `json:"value,omitempty"`
	Currency      string   `json:"currency,omitempty"`
	TransactionID string   `json:"transactionId,omitempty"`
	ItemIDs       []string `json:"itemIds,omitempty"`
}

// OfflineConversion is one ApplyOfflineConversions record.
type OfflineConversion struct {
	MicrosoftClickID       string   `json:"MicrosoftClickId"`
	ConversionName         string   `json:"ConversionName"`
	ConversionTime         string   `json:"ConversionTime"`
	ConversionValue        *float64 `json:"ConversionValue,omitempty"`
	ConversionCurrencyCode string   `json:"ConversionCurrencyCode,omitempty"`
}

// UET event types.
const (
	eventTypePageLoad = "pageLoad"
	eventTypeCustom   = "custom"
)

// Prepare maps and encodes one event for the configured api; the preview
// command uses it without a client.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	var (
		v    any
		keys []string
		err  error
	)
	if c.API == APIOffline {
		var oc OfflineConversion
		oc, err = c.MapOffline(ev)
		v, keys = oc, []string{"msclkid"}
	} else {
		var ue UETEvent
		ue, _, err = c.MapUET(ev)
		v, keys = ue, MatchKeys(&ue.UserData)
	}
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: keys}, nil
}

// MapUET builds the UET event for ev. It is pure. The warnings name
// identifiers dropped because they could not be normalized (never values).
func (c Config) MapUET(ev *event.Event) (UETEvent, []string, error) {
	name, ok := c.EventName(ev.EventName)
	if !ok || !c.Accepts(ev.EventName) {
		return UETEvent{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for microsoft"}
	}
	ue := UETEvent{EventType: eventTypeCustom, EventID: ev.EventID, EventName: name, EventTime: ev.EventTime.Unix()}
	if ev.EventName == event.NamePageView {
		ue.EventType, ue.EventName = eventTypePageLoad, ""
	}
	if ev.Source == event.SourceWeb {
		ue.ReferrerURL = ev.Context.Referrer
	}
	if cs := ev.Consent; cs != nil {
		switch cs.AdUserData {
		case event.ConsentGranted:
			ue.AdStorageConsent = "G"
		case event.ConsentDenied:
			ue.AdStorageConsent = "D"
		}
	}
	var warnings []string
	region := c.DefaultPhoneRegion
	if a := ev.User.Address; a != nil && len(a.Country) == 2 {
		region = strings.ToUpper(a.Country)
	}
	hash := func(f pii.Field, raw string) string {
		if raw == "" {
			return ""
		}
		_, h, err := pii.Hash(pii.Microsoft, f, raw, pii.Options{DefaultRegion: region})
		if err != nil {
			warnings = append(warnings, err.Error())
		}
		return h
	}
	ud := &ue.UserData
	ud.Msclkid = strings.TrimSpace(ev.Context.ClickIDs.Msclkid)
	ud.Em = hash(pii.Email, ev.User.Email)
	ud.Ph = hash(pii.Phone, ev.User.Phone)
	ud.ExternalID = strings.TrimSpace(ev.User.ExternalID)
	if ud.ExternalID == "" {
		ud.ExternalID = strings.TrimSpace(ev.User.UserID)
	}
	ud.ClientIPAddress = ev.Context.IP
	ud.ClientUserAgent = ev.Context.UserAgent
	if ud.Msclkid == "" && ud.Em == "" && ud.Ph == "" && ud.ExternalID == "" {
		return UETEvent{}, warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "UET needs an msclkid, a hashed email or phone, or an external id"}
	}
	p := ev.Properties
	if p.Value != nil || p.OrderID != "" || len(p.Contents) > 0 {
		cd := &CustomData{TransactionID: p.OrderID}
		if p.Value != nil && p.Currency != "" {
			cd.Value, cd.Currency = p.Value, strings.ToUpper(p.Currency)
		}
		for _, it := range p.Contents {
			cd.ItemIDs = append(cd.ItemIDs, it.ID)
		}
		ue.CustomData = cd
	}
	return ue, warnings, nil
}

// MapOffline builds the offline conversion for ev. It is pure.
func (c Config) MapOffline(ev *event.Event) (OfflineConversion, error) {
	name, ok := c.EventName(ev.EventName)
	if !ok || !c.Accepts(ev.EventName) {
		return OfflineConversion{}, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " has no offline conversion goal"}
	}
	clk := strings.TrimSpace(ev.Context.ClickIDs.Msclkid)
	if clk == "" {
		return OfflineConversion{}, &destination.PermanentError{Reason: "no_click_id", Detail: "offline conversions need the msclkid of the ad click"}
	}
	oc := OfflineConversion{MicrosoftClickID: clk, ConversionName: name, ConversionTime: ev.EventTime.UTC().Truncate(time.Second).Format(time.RFC3339)}
	if p := ev.Properties; p.Value != nil && p.Currency != "" {
		oc.ConversionValue, oc.ConversionCurrencyCode = p.Value, strings.ToUpper(p.Currency)
	}
	return oc, nil
}

// MatchKeys lists the identifiers present in ud.
func MatchKeys(ud *UserData) []string {
	var keys []string
	add := func(name string, present bool) {
		if present {
			keys = append(keys, name)
		}
	}
	add("msclkid", ud.Msclkid != "")
	add("em", ud.Em != "")
	add("ph", ud.Ph != "")
	add("externalId", ud.ExternalID != "")
	add("clientIpAddress", ud.ClientIPAddress != "")
	add("clientUserAgent", ud.ClientUserAgent != "")
	return keys
}
