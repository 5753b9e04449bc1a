package tiktok

import (
	"encoding/json"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/userdata"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// Item is one element of the Events API 2.0 data array.
type Item struct {
	Event      string      `json:"event"`
	EventTime  int64       `json:"event_time"`
	EventID    string      `json:"event_id,omitempty"`
	User       User        `json:"user"`
	Properties *Properties `json:"properties,omitempty"`
	Page       *Page       `json:"page,omitempty"`
}

// User holds the matching keys: email, phone and external_id as SHA-256 hex
// digests; ttclid, ttp, ip and user_agent raw, as TikTok requires.
type User struct {
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Ttclid     string `json:"ttclid,omitempty"`
	Ttp        string `json:"ttp,omitempty"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"user_agent,omitempty"`
}

// Properties holds the business facts.
type Properties struct {
	Value       *float64  `json:"value,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	OrderID     string    `json:"order_id,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Contents    []Content `json:"contents,omitempty"`
}

// Content is one line item.
type Content struct {
	ContentID string   `json:"content_id"`
	Quantity  int      `json:"quantity,omitempty"`
	Price     *float64 `json:"price,omitempty"`
}

// Page is where a web event happened.
type Page struct {
	URL      string `json:"url"`
	Referrer string `json:"referrer,omitempty"`
}

// Map builds the data item for ev. It is pure: same event, same item. The
// warnings name identifiers dropped because they could not be normalized
// (never their values).
func (c Config) Map(ev *event.Event) (Item, []string, error) {
	name := c.TikTokEventName(ev.EventName)
	if !c.Accepts(ev.EventName) || name == "" {
		return Item{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for tiktok"}
	}
	it := Item{Event: name, EventTime: ev.EventTime.Unix(), EventID: ev.EventID}
	h := userdata.NewHasher(pii.TikTok, ev, c.DefaultPhoneRegion)
	u := &it.User
	u.Email = h.One(pii.Email, ev.User.Email)
	u.Phone = h.One(pii.Phone, ev.User.Phone)
	u.ExternalID = h.One(pii.ExternalID, userdata.ExternalID(ev.User))
	u.Ttclid = ev.Context.ClickIDs.Ttclid
	u.Ttp = ev.Context.Cookies.Ttp
	u.IP = ev.Context.IP
	u.UserAgent = ev.Context.UserAgent
	if u.Email == "" && u.Phone == "" && u.ExternalID == "" && u.Ttclid == "" && u.Ttp == "" && u.IP == "" {
		return Item{}, h.Warnings, &destination.PermanentError{Reason: "no_match_keys", Detail: "the event carries no identifier TikTok can match on (email, phone, external_id, ttclid, ttp or ip)"}
	}
	if ev.Source == event.SourceWeb && ev.Context.PageURL != "" {
		it.Page = &Page{URL: ev.Context.PageURL, Referrer: ev.Context.Referrer}
	}
	it.Properties = properties(ev.Properties)
	return it, h.Warnings, nil
}

func properties(p event.Properties) *Properties {
	if p.Value == nil && p.Currency == "" && p.OrderID == "" && len(p.Contents) == 0 {
		return nil
	}
	out := &Properties{Value: p.Value, Currency: strings.ToUpper(p.Currency), OrderID: p.OrderID}
	for _, it := range p.Contents {
		out.Contents = append(out.Contents, Content{ContentID: it.ID, Quantity: it.Quantity, Price: it.ItemPrice})
	}
	if len(out.Contents) > 0 {
		out.ContentType = "product"
	}
	return out
}

// MatchKeys lists the identifier kinds present in u.
func MatchKeys(u *User) []string {
	var keys []string
	for _, k := range [...][2]string{
		{"email", u.Email}, {"phone", u.Phone}, {"external_id", u.ExternalID}, {"ttclid", u.Ttclid},
		{"ttp", u.Ttp}, {"ip", u.IP}, {"user_agent", u.UserAgent},
	} {
		keys = userdata.Present(keys, k[0], k[1])
	}
	return keys
}

// Prepare maps and encodes one event; the preview command uses it without
// a client.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	it, _, err := c.Map(ev)
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := json.Marshal(it)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&it.User)}, nil
}

// Body renders the request body for a batch, exactly as Send posts it.
func (c Config) Body(batch []destination.Prepared) []byte {
	head, _ := json.Marshal(struct {
		EventSource   string `json:"event_source"`
		EventSourceID string `json:"event_source_id"`
		TestEventCode string `json:"test_event_code,omitempty"`
	}{c.EventSource, c.EventSourceID, c.TestEventCode})
	b := make([]byte, 0, len(head)+destination.PayloadBytes(batch)+16)
	b = append(b, head[:len(head)-1]...)
	b = append(b, `,"data":`...)
	b = destination.AppendPayloads(b, batch)
	return append(b, '}')
}
