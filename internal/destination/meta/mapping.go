package meta

import (
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// ServerEvent is one CAPI server event.
type ServerEvent struct {
	EventName      string      `json:"event_name"`
	EventTime      int64       `json:"event_time"`
	EventID        string      `json:"event_id,omitempty"`
	ActionSource   string      `json:"action_source"`
	EventSourceURL string      `json:"event_source_url,omitempty"`
	ReferrerURL    string      `json:"referrer_url,omitempty"`
	UserData       UserData    `json:"user_data"`
	CustomData     *CustomData `json:"custom_data,omitempty"`
	AppData        *AppData    `json:"app_data,omitempty"`
	// DataProcessingOptions is ["LDU"] when consent asks for Limited Data
	// Use; its country and state are then 0, so Meta geolocates the event.
	DataProcessingOptions        []string `json:"data_processing_options,omitempty"`
	DataProcessingOptionsCountry *int     `json:"data_processing_options_country,omitempty"`
	DataProcessingOptionsState   *int     `json:"data_processing_options_state,omitempty"`
}

// UserData holds the customer information parameters. Hashed keys are lists
// of SHA-256 hex digests; the rest are sent as they are, as Meta requires.
type UserData struct {
	Em              []string `json:"em,omitempty"`
	Ph              []string `json:"ph,omitempty"`
	Fn              []string `json:"fn,omitempty"`
	Ln              []string `json:"ln,omitempty"`
	Ge              []string `json:"ge,omitempty"`
	Db              []string `json:"db,omitempty"`
	Ct              []string `json:"ct,omitempty"`
	St              []string `json:"st,omitempty"`
	Zp              []string `json:"zp,omitempty"`
	Country         []string `json:"country,omitempty"`
	ExternalID      []string `json:"external_id,omitempty"`
	ClientIPAddress string   `json:"client_ip_address,omitempty"`
	ClientUserAgent string   `json:"client_user_agent,omitempty"`
	Fbc             string   `json:"fbc,omitempty"`
	Fbp             string   `json:"fbp,omitempty"`
}

// CustomData holds the business facts.
type CustomData struct {
	Value    *float64  `json:"value,omitempty"`
	Currency string    `json:"currency,omitempty"`
	OrderID  string    `json:"order_id,omitempty"`
	Contents []Content `json:"contents,omitempty"`
	NumItems int       `json:"num_items,omitempty"`
	// Custom properties (Meta takes any; usable in custom conversion and
	// audience rules): the process stage's value signals. Lifetime value is
	// realized value, not a prediction, so it is not sent as predicted_ltv.
	CustomerType  string   `json:"customer_type,omitempty"` // "new" or "returning", on purchases
	LifetimeValue *float64 `json:"lifetime_value,omitempty"`
	RFMSegment    string   `json:"rfm_segment,omitempty"`
}

// Content is one line item.
type Content struct {
	ID        string   `json:"id"`
	Quantity  int      `json:"quantity,omitempty"`
	ItemPrice *float64 `json:"item_price,omitempty"`
}

// AppData marks app events; Meta requires it for action_source app.
type AppData struct {
	AdvertiserTrackingEnabled  int      `json:"advertiser_tracking_enabled"`
	ApplicationTrackingEnabled int      `json:"application_tracking_enabled"`
	Extinfo                    []string `json:"extinfo"`
}

// actionSource maps our source to Meta's action_source.
func actionSource(s event.Source) string {
	switch s {
	case event.SourceWeb:
		return "website"
	case event.SourceApp:
		return "app"
	case event.SourceCRM:
		return "system_generated"
	}
	return "other"
}

// Map builds the server event for ev. It is pure: same event, same payload.
// The returned warnings name identifiers that were dropped because they
// could not be normalized (never their values).
func (c Config) Map(ev *event.Event) (ServerEvent, []string, error) {
	name := ""
	if en := ev.Enrichment; en != nil && en.PlatformEventName != "" {
		name = en.PlatformEventName // a routing rule chose it
	} else if c.Accepts(ev.EventName) {
		name = c.MetaEventName(ev.EventName)
	} else {
		return ServerEvent{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for meta"}
	}
	se := ServerEvent{
		EventName:    name,
		EventTime:    ev.EventTime.Unix(),
		EventID:      ev.EventID,
		ActionSource: actionSource(ev.Source),
	}
	if ev.Source == event.SourceWeb {
		se.EventSourceURL = ev.Context.PageURL
		se.ReferrerURL = ev.Context.Referrer
	}
	var warnings []string
	region := c.DefaultPhoneRegion
	if a := ev.User.Address; a != nil && len(a.Country) == 2 {
		region = strings.ToUpper(a.Country)
	}
	opts := pii.Options{DefaultRegion: region}
	hash := func(f pii.Field, raw string) []string {
		if raw == "" {
			return nil
		}
		_, h, err := pii.Hash(pii.Meta, f, raw, opts)
		if err != nil {
			warnings = append(warnings, err.Error())
			return nil
		}
		return []string{h}
	}
	u := ev.User
	ud := &se.UserData
	ud.Em = hash(pii.Email, u.Email)
	ud.Ph = hash(pii.Phone, u.Phone)
	ud.Fn = hash(pii.FirstName, u.FirstName)
	ud.Ln = hash(pii.LastName, u.LastName)
	ud.Ge = hash(pii.Gender, u.Gender)
	ud.Db = hash(pii.DateOfBirth, u.DateOfBirth)
	if a := u.Address; a != nil {
		ud.Ct = hash(pii.City, a.City)
		ud.St = hash(pii.State, a.State)
		ud.Zp = hash(pii.Zip, a.Zip)
		ud.Country = hash(pii.Country, a.Country)
	}
	extID := u.ExternalID
	if extID == "" {
		extID = u.UserID
	}
	if extID != "" {
		if c.HashExternalID == nil || *c.HashExternalID {
			ud.ExternalID = hash(pii.ExternalID, extID)
		} else {
			ud.ExternalID = []string{strings.TrimSpace(extID)}
		}
	}
	ud.ClientIPAddress = ev.Context.IP
	ud.ClientUserAgent = ev.Context.UserAgent
	ud.Fbp = ev.Context.Cookies.Fbp
	ud.Fbc = ev.Context.Cookies.Fbc
	if ud.Fbc == "" && ev.Context.ClickIDs.Fbclid != "" {
		// Meta: build fb.<subdomain index>.<creation ms>.<fbclid> when only
		// the fbclid is known; the click was captured at the event's time.
		ud.Fbc = "fb.1." + strconv.FormatInt(ev.EventTime.UnixMilli(), 10) + "." + ev.Context.ClickIDs.Fbclid
	}
	if ev.Source == event.SourceWeb && (se.EventSourceURL == "" || ud.ClientUserAgent == "") {
		return ServerEvent{}, warnings, &destination.PermanentError{Reason: "missing_required_field", Detail: "website events need event_source_url and client_user_agent"}
	}
	var keys [numMatchKeys]string
	if len(appendMatchKeys(keys[:0], ud)) == 0 {
		return ServerEvent{}, warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "the event carries no customer information parameter Meta can match on"}
	}
	if ev.Source == event.SourceApp {
		se.AppData = &AppData{AdvertiserTrackingEnabled: 0, ApplicationTrackingEnabled: 1, Extinfo: appExtinfo(ev)}
	}
	se.CustomData = customData(ev.Properties, ev.Enrichment)
	if en := ev.Enrichment; en != nil && en.LimitedDataUse {
		zero := 0
		se.DataProcessingOptions = []string{"LDU"}
		se.DataProcessingOptionsCountry, se.DataProcessingOptionsState = &zero, &zero
	}
	return se, warnings, nil
}

// appExtinfo is Meta's 16-element extended device info array; we know only
// the platform kind and app identity, the rest stays empty as Meta allows.
func appExtinfo(ev *event.Event) []string {
	ext := make([]string, 16)
	ext[0] = "a2"
	if a := ev.Context.App; a != nil {
		ext[1] = a.Namespace
		ext[2] = a.Version
		ext[3] = a.Version
	}
	return ext
}

func customData(p event.Properties, en *event.Enrichment) *CustomData {
	cd := &CustomData{Value: p.Value, Currency: strings.ToLower(p.Currency), OrderID: p.OrderID}
	for _, it := range p.Contents {
		cd.Contents = append(cd.Contents, Content(it))
		cd.NumItems += max(it.Quantity, 1)
	}
	if en != nil {
		if nc := en.NewCustomer; nc != nil {
			cd.CustomerType = "returning"
			if *nc {
				cd.CustomerType = "new"
			}
		}
		cd.LifetimeValue, cd.RFMSegment = en.LifetimeValue, en.RFM
	}
	if cd.Value == nil && cd.Currency == "" && cd.OrderID == "" && cd.Contents == nil &&
		cd.CustomerType == "" && cd.LifetimeValue == nil && cd.RFMSegment == "" {
		return nil
	}
	return cd
}

// MatchKeys lists the customer information parameters present in ud.
func MatchKeys(ud *UserData) []string {
	return appendMatchKeys(make([]string, 0, numMatchKeys), ud)
}

// numMatchKeys is how many parameters appendMatchKeys knows.
const numMatchKeys = 15

// appendMatchKeys appends the names of the customer information parameters
// present in ud to keys.
func appendMatchKeys(keys []string, ud *UserData) []string {
	add := func(name string, present bool) {
		if present {
			keys = append(keys, name)
		}
	}
	add("em", len(ud.Em) > 0)
	add("ph", len(ud.Ph) > 0)
	add("fn", len(ud.Fn) > 0)
	add("ln", len(ud.Ln) > 0)
	add("ge", len(ud.Ge) > 0)
	add("db", len(ud.Db) > 0)
	add("ct", len(ud.Ct) > 0)
	add("st", len(ud.St) > 0)
	add("zp", len(ud.Zp) > 0)
	add("country", len(ud.Country) > 0)
	add("external_id", len(ud.ExternalID) > 0)
	add("client_ip_address", ud.ClientIPAddress != "")
	add("client_user_agent", ud.ClientUserAgent != "")
	add("fbc", ud.Fbc != "")
	add("fbp", ud.Fbp != "")
	return keys
}

// encode renders one server event.
func encode(se ServerEvent) ([]byte, error) { return json.Marshal(se) }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
