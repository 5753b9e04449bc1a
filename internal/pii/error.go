package pii

// Reason codes carried by Error.Reason. They are stable identifiers meant for
// metrics, dead-letter records and reports.
const (
	ReasonEmpty            = "empty"             // nothing to hash: blank, or nothing left after normalization
	ReasonTooLong          = "too_long"          // longer than any real value of the field
	ReasonInvalidUTF8      = "invalid_utf8"      // not valid UTF-8 text
	ReasonInvalidEmail     = "invalid_email"     // does not look like an email address
	ReasonInvalidPhone     = "invalid_phone"     // not a possible phone number, or no country code
	ReasonInvalidRegion    = "invalid_region"    // Options.DefaultRegion is not a known region
	ReasonInvalidDate      = "invalid_date"      // unrecognised format, impossible date or year out of range
	ReasonInvalidGender    = "invalid_gender"    // not one of m, f, male, female
	ReasonInvalidCountry   = "invalid_country"   // not an ISO 3166-1 country
	ReasonInvalidIP        = "invalid_ip"        // not an IPv4 or IPv6 address
	ReasonUnknownField     = "unknown_field"     // not one of Fields()
	ReasonUnknownPlatform  = "unknown_platform"  // not one of Platforms()
	ReasonUnsupportedField = "unsupported_field" // the platform has no rule for this field
)

// Error reports why a value could not be normalized. It deliberately holds no
// part of the input, which is personal data: the message is built only from
// the field, the reason code and a fixed explanation.
type Error struct {
	// Field is the field whose value was rejected.
	Field Field
	// Reason is a short stable code, one of the Reason constants.
	Reason string

	// detail is a fixed, human-readable explanation. It must never be built
	// from the input value.
	detail string
}

// Error returns "field: reason (explanation)", e.g.
// "phone: invalid_phone (no country code and no default region)".
func (e *Error) Error() string {
	field := string(e.Field)
	if field == "" {
		field = "pii"
	}
	msg := field + ": " + e.Reason
	if e.detail != "" {
		msg += " (" + e.detail + ")"
	}
	return msg
}
