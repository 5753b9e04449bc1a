package ga4

import (
	"encoding/json"
	"strings"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// Request is a Measurement Protocol request body. A prepared event is the
// request that would carry it alone; Send merges the events of one user.
type Request struct {
	ClientID      string    `json:"client_id,omitempty"`
	AppInstanceID string    `json:"app_instance_id,omitempty"`
	UserID        string    `json:"user_id,omitempty"`
	Consent       *Consent  `json:"consent,omitempty"`
	UserData      *UserData `json:"user_data,omitempty"`
	// UserProperties carry the person's value signals (lifetime_value,
	// rfm_segment); GA4 reports them once registered as user-scoped custom
	// dimensions or metrics.
	UserProperties map[string]UserProperty `json:"user_properties,omitempty"`
	Events         []Event                 `json:"events"`
}

// UserProperty is one user property's value: a string or a number.
type UserProperty struct {
	Value any `json:"value"`
}

// User property and parameter names for the value signals.
const (
	PropLifetimeValue = "lifetime_value"
	PropRFMSegment    = "rfm_segment"
	ParamCustomerType = "customer_type"
)

// Consent is the request's consent state.
type Consent struct {
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
}

// UserData is GA4's user-provided data.
type UserData struct {
	SHA256EmailAddress []string  `json:"sha256_email_address,omitempty"`
	SHA256PhoneNumber  []string  `json:"sha256_phone_number,omitempty"`
	Address            []Address `json:"address,omitempty"`
}

// Address: names and street hashed, the rest in the clear.
type Address struct {
	SHA256FirstName string `json:"sha256_first_name,omitempty"`
	SHA256LastName  string `json:"sha256_last_name,omitempty"`
	SHA256Street    string `json:"sha256_street,omitempty"`
	City            string `json:"city,omitempty"`
	Region          string `json:"region,omitempty"`
	PostalCode      string `json:"postal_code,omitempty"`
	Country         string `json:"country,omitempty"`
}

// Event is one GA4 event.
type Event struct {
	Name            string `json:"name"`
	TimestampMicros int64  `json:"timestamp_micros"`
	Params          Params `json:"params"`
}

// Params are the event's parameters.
type Params struct {
	TransactionID string   `json:"transaction_id,omitempty"`
	Value         *float64 `json:"value,omitempty"`
	Currency      string   `json:"currency,omitempty"`
	Items         []Item   `json:"items,omitempty"`
	// EventID lets GA4 reports be joined with signalpipe's outcomes.
	EventID string `json:"event_id,omitempty"`
	// CustomerType is "new" on the person's first purchase, "returning" on
	// later ones; absent on other events.
	CustomerType string `json:"customer_type,omitempty"`
}

// Item is one line item.
type Item struct {
	ItemID   string   `json:"item_id"`
	Quantity int      `json:"quantity,omitempty"`
	Price    *float64 `json:"price,omitempty"`
}

func consentStatus(v string) string {
	switch v {
	case event.ConsentGranted:
		return "GRANTED"
	case event.ConsentDenied:
		return "DENIED"
	}
	return ""
}

// Map builds the one-event request for ev. It is pure.
func (c Config) Map(ev *event.Event) (Request, []string, error) {
	if !c.Accepts(ev.EventName) {
		return Request{}, nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for " + c.Name}
	}
	r := Request{UserID: strings.TrimSpace(ev.User.UserID)}
	var warnings []string
	if strings.Contains(r.UserID, "@") {
		// GA4 forbids personal data in user_id; an e-mail used as a user id
		// is dropped (it still reaches GA4 hashed, in user_data).
		r.UserID = ""
		warnings = append(warnings, "user_id: dropped (looks like an e-mail address)")
	}
	anon := strings.TrimSpace(ev.User.AnonymousID)
	switch {
	case c.app() && anon == "":
		return Request{}, nil, &destination.PermanentError{Reason: "missing_app_instance_id", Detail: "app streams need the Firebase app instance id as the event's anonymous_id"}
	case c.app():
		r.AppInstanceID = anon
	case anon != "":
		r.ClientID = anon
	case r.UserID != "":
		r.ClientID = "sp." + pii.SHA256Hex(r.UserID)[:20]
	default:
		return Request{}, nil, &destination.PermanentError{Reason: "missing_client_id", Detail: "GA4 needs a client id: the event has neither anonymous_id nor user_id"}
	}
	if cs := ev.Consent; cs != nil {
		gc := Consent{AdUserData: consentStatus(cs.AdUserData), AdPersonalization: consentStatus(cs.AdPersonalization)}
		if gc != (Consent{}) {
			r.Consent = &gc
		}
	}
	ud, udWarnings := c.userData(ev)
	r.UserData, warnings = ud, append(warnings, udWarnings...)
	p := Params{TransactionID: ev.Properties.OrderID, Value: ev.Properties.Value, Currency: strings.ToUpper(ev.Properties.Currency), EventID: ev.EventID}
	for _, it := range ev.Properties.Contents {
		p.Items = append(p.Items, Item{ItemID: it.ID, Quantity: it.Quantity, Price: it.ItemPrice})
	}
	r.UserProperties = valueSignals(ev.Enrichment, &p)
	r.Events = []Event{{Name: c.EventName(ev.EventName), TimestampMicros: ev.EventTime.UnixMicro(), Params: p}}
	return r, warnings, nil
}

// valueSignals maps the process stage's value signals: new_customer to the
// event's customer_type parameter, lifetime value and RFM segment to user
// properties (they describe the person, not the event).
func valueSignals(en *event.Enrichment, p *Params) map[string]UserProperty {
	if en == nil {
		return nil
	}
	if nc := en.NewCustomer; nc != nil {
		p.CustomerType = "returning"
		if *nc {
			p.CustomerType = "new"
		}
	}
	var up map[string]UserProperty
	set := func(name string, v any) {
		if up == nil {
			up = map[string]UserProperty{}
		}
		up[name] = UserProperty{Value: v}
	}
	if v := en.LifetimeValue; v != nil {
		set(PropLifetimeValue, *v)
	}
	if en.RFM != "" {
		set(PropRFMSegment, en.RFM)
	}
	return up
}

// userData is the user-provided data by Google's rules, which GA4 shares
// (googleapi.NewIdentity; pii.GA4 is the same table as pii.Google).
func (c Config) userData(ev *event.Event) (*UserData, []string) {
	id, warnings := googleapi.NewIdentity(ev, c.DefaultPhoneRegion)
	var ud UserData
	if id.Email != "" {
		ud.SHA256EmailAddress = []string{id.Email}
	}
	if id.Phone != "" {
		ud.SHA256PhoneNumber = []string{id.Phone}
	}
	a := Address{SHA256FirstName: id.FirstName, SHA256LastName: id.LastName, SHA256Street: id.Street,
		City: id.City, Region: id.State, PostalCode: id.Zip, Country: id.Country}
	if a != (Address{}) {
		ud.Address = []Address{a}
	}
	if ud.SHA256EmailAddress == nil && ud.SHA256PhoneNumber == nil && ud.Address == nil {
		return nil, warnings
	}
	return &ud, warnings
}

// MatchKeys lists the identifier kinds r carries; never values.
func MatchKeys(r *Request) []string {
	var keys []string
	add := func(name string, ok bool) {
		if ok {
			keys = append(keys, name)
		}
	}
	add("client_id", r.ClientID != "")
	add("app_instance_id", r.AppInstanceID != "")
	add("user_id", r.UserID != "")
	if ud := r.UserData; ud != nil {
		add("email", len(ud.SHA256EmailAddress) > 0)
		add("phone", len(ud.SHA256PhoneNumber) > 0)
		add("address", len(ud.Address) > 0)
	}
	return keys
}

// Prepare maps and encodes one event as the request that would carry it
// alone.
func (c Config) Prepare(ev *event.Event) (destination.Prepared, error) {
	r, _, err := c.Map(ev)
	if err != nil {
		return destination.Prepared{}, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return destination.Prepared{}, &destination.PermanentError{Reason: "encoding_failed", Detail: err.Error()}
	}
	return destination.Prepared{Event: ev, Payload: b, MatchKeys: MatchKeys(&r)}, nil
}

// group is one request: the indexes of the batch's events it carries.
type group struct {
	index []int
	body  []byte
}

// groups splits a batch into one request per user (identical request-level
// fields), in order of first appearance, each with at most MaxBatchSize
// events. A payload that does not decode is sent alone, as it is, so the
// platform judges it. strict asks the validation server to enforce GA4's
// recommendations too (validation_behavior ENFORCE_RECOMMENDATIONS), which
// GA4 advises while checking a deployment.
func groups(batch []destination.Prepared, strict bool) []group {
	type head struct {
		fields map[string]json.RawMessage
		events []json.RawMessage
		index  []int
	}
	var heads []*head
	byKey := map[string]*head{}
	for i, p := range batch {
		var fields map[string]json.RawMessage
		var evs []json.RawMessage
		if json.Unmarshal(p.Payload, &fields) != nil || json.Unmarshal(fields["events"], &evs) != nil {
			heads = append(heads, &head{events: []json.RawMessage{p.Payload}, index: []int{i}})
			continue
		}
		delete(fields, "events")
		kb, _ := json.Marshal(fields) // map keys sorted: equal heads, equal keys
		h := byKey[string(kb)]
		if h == nil || len(h.events)+len(evs) > MaxBatchSize {
			h = &head{fields: fields}
			heads = append(heads, h)
			byKey[string(kb)] = h
		}
		h.events = append(h.events, evs...)
		h.index = append(h.index, i)
	}
	out := make([]group, len(heads))
	for i, h := range heads {
		if h.fields == nil {
			out[i] = group{index: h.index, body: h.events[0]}
			continue
		}
		m := make(map[string]any, len(h.fields)+1)
		for k, v := range h.fields {
			m[k] = v
		}
		m["events"] = h.events
		if strict {
			m["validation_behavior"] = "ENFORCE_RECOMMENDATIONS"
		}
		b, _ := json.Marshal(m)
		out[i] = group{index: h.index, body: b}
	}
	return out
}
