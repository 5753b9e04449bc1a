package snapchat

import (
	"encoding/json"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/userdata"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// ServerEvent is one element of the request's data array.
type ServerEvent struct {
	EventName      string      `json:"event_name"`
	EventTime      int64       `json:"event_time"`
	EventID        string      `json:"event_id,omitempty"`
	ActionSource   string      `json:"action_source"`
	EventSourceURL string      `json:"event_source_url,omitempty"`
	UserData       UserData    `json:"user_data"`
	CustomData     *CustomData `json:"custom_data,omitempty"`
}

// UserData holds the matching keys: the hashed lists (em, ph, …), and the
// raw IP address, user agent, ScCid click id and _scid cookie.
type UserData struct {
	userdata.Hashed
	ClientIPAddress string `json:"client_ip_address,omitempty"`
	ClientUserAgent string `json:"client_user_agent,omitempty"`
	ScClickID       string `json:"sc_click_id,omitempty"`
	ScCookie1       string `json:"sc_cookie1,omitempty"`
}

// CustomData holds the business facts.
type CustomData struct {
	Currency string    `json:"currency,omitempty"`
	Value    *float64  `json:"value,omitempty"`
	OrderID  string    `json:"order_id,omitempty"`
	Contents []Content `json:"contents,omitempty"`
	NumItems int       `json:"num_items,omitempty"`
}

// Content is one line item.
type Content struct {
	ID        string   `json:"id"`
	Quantity  int      `json:"quantity,omitempty"`
	ItemPrice *float64 `json:"item_price,omitempty"`
}

// actionSource maps our source to Snap's action_source.
func actionSource(s event.Source) string {
	switch s {
	case event.SourceWeb:
		return "WEB"
	case event.SourceApp:
		return "MOBILE_APP"
	}
	return "OFFLINE"
}

// Map builds the server event for ev. It is pure: same event, same payload.
// The warnings name identifiers dropped because they could not be
// normalized (never their values).
func (c Config) Map(ev *event.Event) (ServerEvent, []string, error) {
	name := c.SnapEventName(ev.EventName)
	if !c.Accepts(ev.EventName) || name == "" {
		return ServerEvent{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for snapchat"}
	}
	se := ServerEvent{EventName: name, EventTime: ev.EventTime.Unix(), EventID: ev.EventID, ActionSource: actionSource(ev.Source)}
	if ev.Source == event.SourceWeb {
		se.EventSourceURL = ev.Context.PageURL
		if se.EventSourceURL == "" {
			return ServerEvent{}, nil, &destination.PermanentError{Reason: "missing_required_field", Detail: "web events need event_source_url"}
		}
	}
	h := userdata.NewHasher(pii.Snapchat, ev, c.DefaultPhoneRegion)
	ud := &se.UserData
	ud.Hashed = h.Build(ev.User)
	ud.ClientIPAddress = ev.Context.IP
	ud.ClientUserAgent = ev.Context.UserAgent
	ud.ScClickID = ev.Context.ClickIDs.ScCid
	ud.ScCookie1 = ev.Context.Cookies.Scid
	if len(ud.Em) == 0 && len(ud.Ph) == 0 && len(ud.ExternalID) == 0 && ud.ScClickID == "" && ud.ScCookie1 == "" && (ud.ClientIPAddress == "" || ud.ClientUserAgent == "") {
		return ServerEvent{}, h.Warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "Snap needs an email, phone, external id, ScCid, _scid cookie, or both IP address and user agent"}
	}
	p := ev.Properties
	if p.Value != nil || p.Currency != "" || p.OrderID != "" || len(p.Contents) > 0 {
		cd := &CustomData{Currency: strings.ToUpper(p.Currency), Value: p.Value, OrderID: p.OrderID}
		for _, it := range p.Contents {
			cd.Contents = append(cd.Contents, Content(it))
			cd.NumItems += max(it.Quantity, 1)
		}
		se.CustomData = cd
	}
	if name == "PURCHASE" && (se.CustomData == nil || se.CustomData.Currency == "" || se.CustomData.Value == nil) {
		return ServerEvent{}, h.Warnings, &destination.PermanentError{Reason: "missing_required_field", Detail: "Snap requires value and currency on PURCHASE"}
	}
	return se, h.Warnings, nil
}

// MatchKeys lists the identifier kinds present in ud.
func MatchKeys(ud *UserData) []string {
	keys := ud.Keys()
	keys = userdata.Present(keys, "client_ip_address", ud.ClientIPAddress)
	keys = userdata.Present(keys, "client_user_agent", ud.ClientUserAgent)
	keys = userdata.Present(keys, "sc_click_id", ud.ScClickID)
	return userdata.Present(keys, "sc_cookie1", ud.ScCookie1)
}

// Prepare maps and encodes one event; the preview command uses it without
// a client.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	se, _, err := c.Map(ev)
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := json.Marshal(se)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&se.UserData)}, nil
}
