package pinterest

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/userdata"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// ConversionEvent is one element of the request's data array.
type ConversionEvent struct {
	EventName      string      `json:"event_name"`
	ActionSource   string      `json:"action_source"`
	EventTime      int64       `json:"event_time"`
	EventID        string      `json:"event_id"`
	EventSourceURL string      `json:"event_source_url,omitempty"`
	OptOut         bool        `json:"opt_out,omitempty"`
	AppID          string      `json:"app_id,omitempty"`
	AppName        string      `json:"app_name,omitempty"`
	AppVersion     string      `json:"app_version,omitempty"`
	UserData       UserData    `json:"user_data"`
	CustomData     *CustomData `json:"custom_data,omitempty"`
}

// UserData holds the matching keys: the hashed lists (em, ph, …), and the
// raw IP address, user agent and epik click id.
type UserData struct {
	userdata.Hashed
	ClientIPAddress string `json:"client_ip_address,omitempty"`
	ClientUserAgent string `json:"client_user_agent,omitempty"`
	ClickID         string `json:"click_id,omitempty"`
}

// CustomData holds the business facts; Pinterest takes value and item
// prices as decimal strings.
type CustomData struct {
	Currency   string    `json:"currency,omitempty"`
	Value      string    `json:"value,omitempty"`
	OrderID    string    `json:"order_id,omitempty"`
	ContentIDs []string  `json:"content_ids,omitempty"`
	Contents   []Content `json:"contents,omitempty"`
	NumItems   int       `json:"num_items,omitempty"`
}

// Content is one line item.
type Content struct {
	ID        string `json:"id"`
	ItemPrice string `json:"item_price,omitempty"`
	Quantity  int    `json:"quantity,omitempty"`
}

func (c Config) actionSource(s event.Source) string {
	switch s {
	case event.SourceWeb:
		return "web"
	case event.SourceApp:
		return c.AppActionSource
	}
	return "offline"
}

// Map builds the conversion event for ev. It is pure: same event, same
// payload. The warnings name identifiers dropped because they could not be
// normalized (never their values).
func (c Config) Map(ev *event.Event) (ConversionEvent, []string, error) {
	name := c.PinterestEventName(ev.EventName)
	if !c.Accepts(ev.EventName) || name == "" {
		return ConversionEvent{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for pinterest"}
	}
	if ev.EventID == "" {
		return ConversionEvent{}, nil, &destination.PermanentError{Reason: "missing_required_field", Detail: "Pinterest requires event_id"}
	}
	ce := ConversionEvent{EventName: name, ActionSource: c.actionSource(ev.Source), EventTime: ev.EventTime.Unix(), EventID: ev.EventID}
	if ev.Source == event.SourceWeb {
		ce.EventSourceURL = ev.Context.PageURL
	}
	if a := ev.Context.App; ev.Source == event.SourceApp && a != nil {
		ce.AppID, ce.AppName, ce.AppVersion = a.Namespace, a.Name, a.Version
	}
	// Pinterest's opt_out marks a user who declined ads personalization.
	ce.OptOut = ev.Consent != nil && ev.Consent.AdPersonalization == event.ConsentDenied
	h := userdata.NewHasher(pii.Pinterest, ev, c.DefaultPhoneRegion)
	ud := &ce.UserData
	ud.Hashed = h.Build(ev.User)
	ud.ClientIPAddress = ev.Context.IP
	ud.ClientUserAgent = ev.Context.UserAgent
	ud.ClickID = ev.Context.ClickIDs.Epik
	if len(ud.Em) == 0 && (ud.ClientIPAddress == "" || ud.ClientUserAgent == "") {
		return ConversionEvent{}, h.Warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "Pinterest needs a hashed email, or both the IP address and the user agent"}
	}
	ce.CustomData = customData(ev.Properties)
	return ce, h.Warnings, nil
}

func customData(p event.Properties) *CustomData {
	if p.Value == nil && p.Currency == "" && p.OrderID == "" && len(p.Contents) == 0 {
		return nil
	}
	cd := &CustomData{Currency: strings.ToUpper(p.Currency), OrderID: p.OrderID}
	if p.Value != nil {
		cd.Value = decimal(*p.Value)
	}
	for _, it := range p.Contents {
		ct := Content{ID: it.ID, Quantity: it.Quantity}
		if it.ItemPrice != nil {
			ct.ItemPrice = decimal(*it.ItemPrice)
		}
		cd.Contents = append(cd.Contents, ct)
		cd.ContentIDs = append(cd.ContentIDs, it.ID)
		cd.NumItems += max(it.Quantity, 1)
	}
	return cd
}

// decimal renders a money amount as Pinterest's decimal string.
func decimal(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// MatchKeys lists the identifier kinds present in ud.
func MatchKeys(ud *UserData) []string {
	keys := ud.Keys()
	keys = userdata.Present(keys, "client_ip_address", ud.ClientIPAddress)
	keys = userdata.Present(keys, "client_user_agent", ud.ClientUserAgent)
	return userdata.Present(keys, "click_id", ud.ClickID)
}

// Prepare maps and encodes one event; the preview command uses it without
// a client.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	ce, _, err := c.Map(ev)
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := json.Marshal(ce)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&ce.UserData)}, nil
}
