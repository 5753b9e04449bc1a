package event

import (
	"strconv"
	"time"
)

// Status is what happened to an input record, overall or for one destination.
type Status string

// Terminal statuses end a record's path (overall, or for one destination).
// StatusRouted is non-terminal: it records which destinations a valid event
// was handed to, so the ledger knows how many terminal outcomes to expect.
const (
	StatusDelivered        Status = "delivered"
	StatusDeduplicated     Status = "deduplicated"
	StatusSuppressed       Status = "suppressed"
	StatusInvalid          Status = "invalid"
	StatusRejected         Status = "rejected"
	StatusExpired          Status = "expired"
	StatusDegradedExported Status = "degraded_exported"
	StatusRouted           Status = "routed"
	// StatusRetrying is not terminal either: the destination asked for
	// this event again later, and it waits in a retry tier.
	StatusRetrying Status = "retrying"
)

// Terminal reports whether s ends a record's path.
func (s Status) Terminal() bool { return s != StatusRouted && s != StatusRetrying && s != "" }

// TerminalStatuses lists every terminal status in display order.
var TerminalStatuses = []Status{
	StatusDelivered, StatusDeduplicated, StatusSuppressed, StatusInvalid,
	StatusRejected, StatusExpired, StatusDegradedExported,
}

// Outcome is one record on sp.outcomes. It never carries personal data: only
// ids, names, counts, reasons and the platform's own reference.
type Outcome struct {
	// Record is the input record's coordinates, "topic/partition/offset".
	Record      string `json:"record"`
	EventID     string `json:"event_id,omitempty"`
	EventName   string `json:"event_name,omitempty"`
	Source      Source `json:"source,omitempty"`
	Destination string `json:"destination,omitempty"`
	Status      Status `json:"status"`
	// Reason is a short machine-readable code (schema_violation,
	// platform_rejected, too_old, …); Detail is the human-readable text.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Destinations is set on a routed outcome.
	Destinations []string  `json:"destinations,omitempty"`
	Attempts     int       `json:"attempts,omitempty"`
	EventTime    time.Time `json:"event_time,omitzero"`
	At           time.Time `json:"at"`
	// PlatformRef is the platform's trace id for the request (Meta's
	// fbtrace_id), so a user can ask the platform about it.
	PlatformRef string `json:"platform_ref,omitempty"`
	// MatchKeys lists the identifier kinds sent (em, ph, fbc, …), for
	// match-key coverage; never the values.
	MatchKeys []string `json:"match_keys,omitempty"`
	Value     *float64 `json:"value,omitempty"`
	Currency  string   `json:"currency,omitempty"`
	// Degraded is set on the routed outcome and the terminal outcomes of
	// an event the process stage handled without the person's state: why
	// (DegradedStateUnavailable, DegradedStateError).
	Degraded string `json:"degraded,omitempty"`
}

// String renders an origin as "topic/partition/offset".
func (o Origin) String() string {
	return o.Topic + "/" + strconv.FormatInt(int64(o.Partition), 10) + "/" + strconv.FormatInt(o.Offset, 10)
}
