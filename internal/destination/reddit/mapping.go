package reddit

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// ConversionEvent is one v3 conversion event.
type ConversionEvent struct {
	EventAt        int64     `json:"event_at"`
	ActionSource   string    `json:"action_source"`
	Type           EventType `json:"type"`
	ClickID        string    `json:"click_id,omitempty"`
	EventSourceURL string    `json:"event_source_url,omitempty"`
	User           User      `json:"user"`
	Metadata       *Metadata `json:"metadata,omitempty"`
}

// EventType is the event's tracking type.
type EventType struct {
	TrackingType    string `json:"tracking_type"`
	CustomEventName string `json:"custom_event_name,omitempty"`
}

// User holds the match keys: hashed identifiers (IP address included, which
// only Reddit wants hashed) and the user agent as sent by the browser.
type User struct {
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	IPAddress   string `json:"ip_address,omitempty"`
	UserAgent   string `json:"user_agent,omitempty"`
}

// Metadata holds the dedupe key and business facts.
type Metadata struct {
	ConversionID string    `json:"conversion_id,omitempty"`
	Currency     string    `json:"currency,omitempty"`
	Value        *float64  `json:"value,omitempty"`
	ItemCount    int       `json:"item_count,omitempty"`
	Products     []Product `json:"products,omitempty"`
}

// Product is one line item.
type Product struct {
	ID string `json:"id"`
}

// Event types that take value and currency, and those that take item_count
// (Reddit's event metadata page).
var (
	valueTypes = []string{TypeAddToCart, TypeAddToWishlist, TypeLead, TypePurchase, TypeSignUp, TypeCustom}
	countTypes = []string{TypeAddToCart, TypeAddToWishlist, TypePurchase, TypeCustom}
)

// actionSource maps our source to Reddit's action_source.
func actionSource(s event.Source) string {
	switch s {
	case event.SourceWeb:
		return "WEBSITE"
	case event.SourceApp:
		return "APP"
	}
	return "OTHER"
}

// Map builds the conversion event for ev. It is pure: same event, same
// payload. The warnings name identifiers that were dropped because they
// could not be normalized (never their values).
func (c Config) Map(ev *event.Event) (ConversionEvent, []string, error) {
	if !c.Accepts(ev.EventName) {
		return ConversionEvent{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for reddit"}
	}
	tt, custom := c.EventType(ev.EventName)
	ce := ConversionEvent{
		EventAt:      ev.EventTime.UnixMilli(),
		ActionSource: actionSource(ev.Source),
		Type:         EventType{TrackingType: tt, CustomEventName: custom},
		ClickID:      strings.TrimSpace(ev.Context.ClickIDs.RdtCid),
	}
	if ev.Source == event.SourceWeb {
		ce.EventSourceURL = pageWithoutQuery(ev.Context.PageURL)
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
		_, h, err := pii.Hash(pii.Reddit, f, raw, pii.Options{DefaultRegion: region})
		if err != nil {
			warnings = append(warnings, err.Error())
		}
		return h
	}
	u := &ce.User
	u.Email = hash(pii.Email, ev.User.Email)
	u.PhoneNumber = hash(pii.Phone, ev.User.Phone)
	ext := ev.User.ExternalID
	if ext == "" {
		ext = ev.User.UserID
	}
	u.ExternalID = hash(pii.ExternalID, ext)
	if ev.Context.IP != "" {
		if _, h, err := pii.HashIP(ev.Context.IP); err != nil {
			warnings = append(warnings, err.Error())
		} else {
			u.IPAddress = h
		}
	}
	u.UserAgent = ev.Context.UserAgent
	if ce.ClickID == "" && u.Email == "" && u.PhoneNumber == "" && u.ExternalID == "" && u.IPAddress == "" {
		return ConversionEvent{}, warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "Reddit needs a click id or a hashed email, phone, external id or IP address"}
	}
	ce.Metadata = metadata(ev, tt)
	return ce, warnings, nil
}

// metadata carries the conversion id (the Pixel's dedupe key) and the
// business facts the event type takes.
func metadata(ev *event.Event, trackingType string) *Metadata {
	m := &Metadata{ConversionID: ev.EventID}
	p := ev.Properties
	if slices.Contains(valueTypes, trackingType) && p.Value != nil && p.Currency != "" {
		m.Value, m.Currency = p.Value, strings.ToUpper(p.Currency)
	}
	for _, it := range p.Contents {
		m.Products = append(m.Products, Product{ID: it.ID})
		if slices.Contains(countTypes, trackingType) {
			m.ItemCount += max(it.Quantity, 1)
		}
	}
	if m.ConversionID == "" && m.Value == nil && m.Products == nil {
		return nil
	}
	return m
}

// pageWithoutQuery keeps scheme, host and path of a page URL: Reddit reads
// the domain from it, while query strings often carry e-mail addresses and
// other personal data that must not leave unhashed.
func pageWithoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// MatchKeys lists the match keys present in ce.
func MatchKeys(ce *ConversionEvent) []string {
	var keys []string
	add := func(name string, present bool) {
		if present {
			keys = append(keys, name)
		}
	}
	u := &ce.User
	add("click_id", ce.ClickID != "")
	add("email", u.Email != "")
	add("phone_number", u.PhoneNumber != "")
	add("external_id", u.ExternalID != "")
	add("ip_address", u.IPAddress != "")
	add("user_agent", u.UserAgent != "")
	return keys
}

// encode renders one conversion event.
func encode(ce ConversionEvent) ([]byte, error) { return json.Marshal(ce) }
