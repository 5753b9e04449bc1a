package webhook

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// Event is one event as the webhook sends it; the package doc describes it.
type Event struct {
	EventID    string      `json:"event_id"`
	EventName  string      `json:"event_name"`
	EventTime  string      `json:"event_time"`
	Source     string      `json:"source"`
	User       User        `json:"user"`
	ClickIDs   ClickIDs    `json:"click_ids,omitzero"`
	Cookies    Cookies     `json:"cookies,omitzero"`
	Properties *Properties `json:"properties,omitempty"`
	Consent    *Consent    `json:"consent,omitempty"`
	Customer   *Customer   `json:"customer,omitempty"`
}

// Customer holds the process stage's value signals for the person.
type Customer struct {
	// NewCustomer is set on purchases: true on the person's first.
	NewCustomer *bool `json:"new_customer,omitempty"`
	// LifetimeValue is the CRM's customer value, else the purchases seen.
	LifetimeValue *float64 `json:"lifetime_value,omitempty"`
	// RFM is the recency/frequency/monetary segment, e.g. "R3F2M5".
	RFM string `json:"rfm,omitempty"`
}

// User holds the customer's identifiers, each normalized with Meta's rules
// and SHA-256 hashed (lowercase hex).
type User struct {
	EmailSHA256      string `json:"email_sha256,omitempty"`
	PhoneSHA256      string `json:"phone_sha256,omitempty"`
	FirstNameSHA256  string `json:"first_name_sha256,omitempty"`
	LastNameSHA256   string `json:"last_name_sha256,omitempty"`
	ExternalIDSHA256 string `json:"external_id_sha256,omitempty"`
	CitySHA256       string `json:"city_sha256,omitempty"`
	ZipSHA256        string `json:"zip_sha256,omitempty"`
	CountrySHA256    string `json:"country_sha256,omitempty"`
}

// The wire types below have the same fields as their event counterparts and
// are filled by conversion, so a field added to the canonical event does not
// change what customers receive until someone adds it here on purpose (the
// conversion stops compiling).

// ClickIDs are the ad click identifiers, as captured.
type ClickIDs struct {
	Gclid   string `json:"gclid,omitempty"`
	Gbraid  string `json:"gbraid,omitempty"`
	Wbraid  string `json:"wbraid,omitempty"`
	Fbclid  string `json:"fbclid,omitempty"`
	Ttclid  string `json:"ttclid,omitempty"`
	ScCid   string `json:"sccid,omitempty"`
	Epik    string `json:"epik,omitempty"`
	RdtCid  string `json:"rdt_cid,omitempty"`
	LiFatID string `json:"li_fat_id,omitempty"`
	Msclkid string `json:"msclkid,omitempty"`
}

// Cookies are the platforms' first-party browser ids, as captured.
type Cookies struct {
	Fbp  string `json:"fbp,omitempty"`
	Fbc  string `json:"fbc,omitempty"`
	Ttp  string `json:"ttp,omitempty"`
	Scid string `json:"scid,omitempty"`
}

// Properties are the business facts of the event.
type Properties struct {
	Value    *float64  `json:"value,omitempty"`
	Currency string    `json:"currency,omitempty"`
	OrderID  string    `json:"order_id,omitempty"`
	Contents []Content `json:"contents,omitempty"`
}

// Content is one line item.
type Content struct {
	ID        string   `json:"id"`
	Quantity  int      `json:"quantity,omitempty"`
	ItemPrice *float64 `json:"item_price,omitempty"`
}

// Consent is the user's consent state as the event carried it.
type Consent struct {
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
	Analytics         string `json:"analytics,omitempty"`
	TCFString         string `json:"tcf_string,omitempty"`
}

// Map builds the webhook event for ev. It is pure: same event, same payload.
// Identifiers that cannot be normalized are left out; the returned warnings
// name them (never their values).
func (c Config) Map(ev *event.Event) (Event, []string, error) {
	if !c.Accepts(ev.EventName) {
		return Event{}, nil, &destination.PermanentError{Reason: "event_not_mapped",
			Detail: "event name " + ev.EventName + " is not configured for " + c.Name}
	}
	out := Event{
		EventID:   ev.EventID,
		EventName: ev.EventName,
		EventTime: ev.EventTime.UTC().Format(time.RFC3339Nano),
		Source:    string(ev.Source),
		ClickIDs:  ClickIDs(ev.Context.ClickIDs),
		Cookies:   Cookies(ev.Context.Cookies),
	}
	if ev.Consent != nil {
		cs := Consent(*ev.Consent)
		out.Consent = &cs
	}
	out.Properties = properties(ev.Properties)
	if en := ev.Enrichment; en != nil && (en.NewCustomer != nil || en.LifetimeValue != nil || en.RFM != "") {
		out.Customer = &Customer{NewCustomer: en.NewCustomer, LifetimeValue: en.LifetimeValue, RFM: en.RFM}
	}

	var warnings []string
	opts := pii.Options{}
	if a := ev.User.Address; a != nil && len(strings.TrimSpace(a.Country)) == 2 {
		opts.DefaultRegion = strings.ToUpper(strings.TrimSpace(a.Country))
	}
	hash := func(f pii.Field, raw string) string {
		if strings.TrimSpace(raw) == "" {
			return ""
		}
		_, h, err := pii.Hash(pii.Meta, f, raw, opts)
		if err != nil {
			warnings = append(warnings, err.Error()) // *pii.Error never holds the value
			return ""
		}
		return h
	}
	u := ev.User
	out.User = User{
		EmailSHA256:     hash(pii.Email, u.Email),
		PhoneSHA256:     hash(pii.Phone, u.Phone),
		FirstNameSHA256: hash(pii.FirstName, u.FirstName),
		LastNameSHA256:  hash(pii.LastName, u.LastName),
	}
	extID := u.ExternalID
	if strings.TrimSpace(extID) == "" {
		extID = u.UserID
	}
	out.User.ExternalIDSHA256 = hash(pii.ExternalID, extID)
	if a := u.Address; a != nil {
		out.User.CitySHA256 = hash(pii.City, a.City)
		out.User.ZipSHA256 = hash(pii.Zip, a.Zip)
		out.User.CountrySHA256 = hash(pii.Country, a.Country)
	}
	return out, warnings, nil
}

func properties(p event.Properties) *Properties {
	if p.Value == nil && p.Currency == "" && p.OrderID == "" && len(p.Contents) == 0 {
		return nil
	}
	out := &Properties{Value: p.Value, Currency: p.Currency, OrderID: p.OrderID}
	for _, it := range p.Contents {
		out.Contents = append(out.Contents, Content(it))
	}
	return out
}

// MatchKeys lists the identifier kinds e carries, by their payload keys
// (email_sha256, gclid, fbp, …); never their values.
func MatchKeys(e *Event) []string {
	var keys []string
	add := func(name, v string) {
		if v != "" {
			keys = append(keys, name)
		}
	}
	u := e.User
	add("email_sha256", u.EmailSHA256)
	add("phone_sha256", u.PhoneSHA256)
	add("first_name_sha256", u.FirstNameSHA256)
	add("last_name_sha256", u.LastNameSHA256)
	add("external_id_sha256", u.ExternalIDSHA256)
	add("city_sha256", u.CitySHA256)
	add("zip_sha256", u.ZipSHA256)
	add("country_sha256", u.CountrySHA256)
	k := e.ClickIDs
	add("gclid", k.Gclid)
	add("gbraid", k.Gbraid)
	add("wbraid", k.Wbraid)
	add("fbclid", k.Fbclid)
	add("ttclid", k.Ttclid)
	add("sccid", k.ScCid)
	add("epik", k.Epik)
	add("rdt_cid", k.RdtCid)
	add("li_fat_id", k.LiFatID)
	add("msclkid", k.Msclkid)
	add("fbp", e.Cookies.Fbp)
	add("fbc", e.Cookies.Fbc)
	add("ttp", e.Cookies.Ttp)
	add("scid", e.Cookies.Scid)
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

// Body renders the request body for a batch, exactly as Send posts it and
// signs it: {"events":[...]}.
func (c Config) Body(batch []destination.Prepared) []byte {
	b := make([]byte, 0, destination.PayloadBytes(batch)+len(`{"events":}`))
	b = append(b, `{"events":`...)
	b = destination.AppendPayloads(b, batch)
	return append(b, '}')
}
