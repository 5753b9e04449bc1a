// Package event holds signalpipe's canonical event and the outcome record that
// every stage writes to sp.outcomes. It imports nothing of ours, so every
// other package can depend on it.
package event

import "time"

// Source is where an event came from; it decides defaults such as Meta's
// action_source.
type Source string

// The sources signalpipe knows.
const (
	SourceWeb Source = "web"
	SourceApp Source = "app"
	SourceCRM Source = "crm"
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	switch s {
	case SourceWeb, SourceApp, SourceCRM:
		return true
	}
	return false
}

// Canonical event names. Producers may send these or any alias that the
// ingest normalizer maps to them (Segment's "Order Completed" → purchase).
const (
	NamePageView      = "page_view"
	NameViewContent   = "view_content"
	NameAddToCart     = "add_to_cart"
	NameCheckout      = "begin_checkout"
	NameSignUp        = "sign_up"
	NameLead          = "lead"
	NamePurchase      = "purchase"
	NameQualifiedLead = "qualified_lead"
	NameClosedDeal    = "closed_deal"
	NameIdentify      = "identify"
)

// Event is the canonical, validated and normalized event that ingest writes
// to sp.events. Personal data in User is raw (normalized only in the sense of
// trimmed); each destination normalizes and hashes it by its own rules.
type Event struct {
	EventID    string     `json:"event_id"`
	EventName  string     `json:"event_name"`
	EventTime  time.Time  `json:"event_time"`
	ReceivedAt time.Time  `json:"received_at"`
	Source     Source     `json:"source"`
	User       User       `json:"user"`
	Consent    *Consent   `json:"consent,omitempty"`
	Context    Context    `json:"context"`
	Properties Properties `json:"properties"`
	// Origin is the input record this event was decoded from; outcomes name
	// it so the ledger can account for every input record.
	Origin Origin `json:"origin"`
	// ConsentCategories is the consent platform's category map (category →
	// allowed) when one was sent (our consent.cmp, Segment's
	// categoryPreferences). It is kept beside Consent, not mapped onto its
	// signals: categories are per workspace.
	ConsentCategories map[string]bool `json:"consent_categories,omitempty"`
	// Profile is what a CRM record says of the person beyond identifiers.
	Profile *Profile `json:"profile,omitempty"`
	// Enrichment is what the process stage added from the person's state;
	// nil on sp.events.
	Enrichment *Enrichment `json:"enrichment,omitempty"`
}

// Profile is a CRM record's facts about the person.
type Profile struct {
	LifecycleStage string   `json:"lifecycle_stage,omitempty"`
	CustomerValue  *float64 `json:"customer_value,omitempty"`
	// Exclusions are the person's standing objections (ExclusionUnsubscribed,
	// …); a CRM record that carries a profile replaces the list.
	Exclusions []string `json:"exclusions,omitempty"`
}

// Per-person exclusions a CRM may record.
const (
	ExclusionUnsubscribed = "unsubscribed"
	ExclusionComplaint    = "complaint"
	ExclusionLegalHold    = "legal_hold"
	ExclusionDoNotSell    = "do_not_sell"
)

// Enrichment carries the process stage's additions that have no place in
// the event's own fields.
type Enrichment struct {
	// Identity is the person's key (a hash, never an identifier in clear);
	// deliver's dead letters carry it back so the process stage can release
	// the event's dedupe keys.
	Identity string `json:"identity,omitempty"`
	// PlatformEventName, when set, is the name the routing rule chose for
	// this destination; destinations send it instead of their own mapping.
	PlatformEventName string `json:"platform_event_name,omitempty"`
	// NewCustomer is true on the person's first purchase, false on later
	// ones; nil when not a purchase.
	NewCustomer *bool `json:"new_customer,omitempty"`
	// LifetimeValue is the person's known value: the CRM's customer value
	// when given, else the sum of purchases seen.
	LifetimeValue *float64 `json:"lifetime_value,omitempty"`
	// RFM is the recency/frequency/monetary segment, "R3F2M5" (1 low … 5 high).
	RFM string `json:"rfm,omitempty"`
	// LimitedDataUse asks the destination to send its restricted-processing
	// flag (Meta data_processing_options LDU).
	LimitedDataUse bool `json:"limited_data_use,omitempty"`
	// IdentifiersStripped says the consent policy removed personal
	// identifiers before the event was handed to the destination.
	IdentifiersStripped bool `json:"identifiers_stripped,omitempty"`
	// Degraded, when set, says why the event was processed without the
	// person's state (DegradedStateUnavailable, DegradedStateError): it
	// went with the identifiers it carried, no stored click ids or profile,
	// and was not checked against earlier sends (the platform's event-id
	// deduplication is what catches a resend).
	Degraded string `json:"degraded,omitempty"`
}

// Reasons an event was processed without the person's state
// (Enrichment.Degraded, Outcome.Degraded).
const (
	// DegradedStateUnavailable: the partition's state was still being
	// restored when the batch could wait no longer.
	DegradedStateUnavailable = "state_unavailable"
	// DegradedStateError: opening the partition's state failed.
	DegradedStateError = "state_error"
)

// DegradedOf returns why ev was processed without state, or "".
func DegradedOf(ev *Event) string {
	if ev.Enrichment == nil {
		return ""
	}
	return ev.Enrichment.Degraded
}

// User holds the person's identifiers as received.
type User struct {
	UserID      string   `json:"user_id,omitempty"`
	AnonymousID string   `json:"anonymous_id,omitempty"`
	ExternalID  string   `json:"external_id,omitempty"`
	Email       string   `json:"email,omitempty"`
	Phone       string   `json:"phone,omitempty"`
	FirstName   string   `json:"first_name,omitempty"`
	LastName    string   `json:"last_name,omitempty"`
	Gender      string   `json:"gender,omitempty"`
	DateOfBirth string   `json:"date_of_birth,omitempty"`
	Address     *Address `json:"address,omitempty"`
}

// Address is a postal address.
type Address struct {
	Street  string `json:"street,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Zip     string `json:"zip,omitempty"`
	Country string `json:"country,omitempty"`
}

// Consent is the event's consent state. Each signal is "granted", "denied" or
// empty for unknown.
type Consent struct {
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
	Analytics         string `json:"analytics,omitempty"`
	TCFString         string `json:"tcf_string,omitempty"`
}

// Consent states.
const (
	ConsentGranted = "granted"
	ConsentDenied  = "denied"
)

// Context is what the tag or app saw around the event.
type Context struct {
	IP        string   `json:"ip,omitempty"`
	UserAgent string   `json:"user_agent,omitempty"`
	PageURL   string   `json:"page_url,omitempty"`
	Referrer  string   `json:"referrer,omitempty"`
	ClickIDs  ClickIDs `json:"click_ids,omitzero"`
	Cookies   Cookies  `json:"cookies,omitzero"`
	App       *App     `json:"app,omitempty"`
}

// ClickIDs are the ad platforms' click identifiers, taken from the landing
// URL or sent explicitly. They are case-sensitive and never altered.
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

// Cookies are first-party browser ids set by the platforms' tags.
type Cookies struct {
	Fbp string `json:"fbp,omitempty"`
	Fbc string `json:"fbc,omitempty"`
	Ttp string `json:"ttp,omitempty"`
	// Scid is the Snap Pixel's _scid cookie.
	Scid string `json:"scid,omitempty"`
}

// App describes the mobile app that sent the event.
type App struct {
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Properties are the event's business facts.
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

// Origin names an input record by its Kafka coordinates.
type Origin struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}
