package pii

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// E.164 bounds on the full number, country calling code included.
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15
)

// phoneDigits is the rule for platforms that want the country calling code
// followed by the national significant number, digits only, without '+' or
// leading zeros: "(650)555-1212" in region US → "16505551212".
func phoneDigits(s string, o Options) (string, *Error) { return resolvePhone(s, o) }

// resolvePhone returns country calling code + national significant number as
// bare digits; E.164-style platforms add their '+' on top of it.
//
// Numbers written internationally ('+' or "00" followed only by digits and
// common separators) take a fast path that never calls phonenumbers: its
// Parse costs several microseconds and allocates heavily, while the whole
// per-event transform budget is 15µs and most first-party data already
// carries a '+'. The fast path still rejects what cannot be a number: fewer
// than 7 or more than 15 digits, or no known country calling code.
//
// Everything else — national numbers, extensions, vanity letters — goes to
// phonenumbers, with Options.DefaultRegion for numbers without a country
// code. Possible (not necessarily valid, i.e. allocated) numbers are
// accepted: numbering plans change faster than the library, and a stale
// "invalid" would drop real customers.
func resolvePhone(s string, o Options) (string, *Error) {
	intl, international := strings.CutPrefix(s, "+")
	if !international {
		intl, international = strings.CutPrefix(s, "00")
	}
	if international {
		if digits, plain := internationalDigits(intl); plain {
			return checkInternational(digits)
		}
		return parsePhone("+"+intl, "")
	}
	if o.DefaultRegion == "" {
		return "", &Error{Reason: ReasonInvalidPhone, detail: "no country code: write it with '+' or set a default region"}
	}
	region := strings.ToUpper(o.DefaultRegion)
	if phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return "", &Error{Reason: ReasonInvalidRegion, detail: "default region is not a known ISO 3166-1 alpha-2 region"}
	}
	return parsePhone(s, region)
}

// internationalDigits collects the digits of a number written after its
// international prefix. plain is false when s holds anything besides digits
// and the separators people type (space, - . / and parentheses), in which
// case the caller lets phonenumbers interpret it. The "(0)" that UK and
// German numbers often show after the country code is a trunk prefix never
// dialled from abroad, so it is skipped rather than kept as a digit.
func internationalDigits(s string) (digits string, plain bool) {
	var buf [maxPhoneDigits + 1]byte
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if n == len(buf) {
				return string(buf[:n]), true // too long; checkInternational rejects it
			}
			buf[n] = c
			n++
		case c == '(' && strings.HasPrefix(s[i:], "(0)"):
			i += 2
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '\t':
		default:
			return "", false
		}
	}
	return string(buf[:n]), true
}

// checkInternational validates digits that should start with a country
// calling code.
func checkInternational(d string) (string, *Error) {
	if len(d) < minPhoneDigits || len(d) > maxPhoneDigits {
		return "", &Error{Reason: ReasonInvalidPhone, detail: "an international number has 7 to 15 digits"}
	}
	if d[0] == '0' {
		return "", &Error{Reason: ReasonInvalidPhone, detail: "a country calling code never starts with 0"}
	}
	codes := phonenumbers.GetSupportedCallingCodes()
	for n := 1; n <= 3; n++ {
		cc, _ := strconv.Atoi(d[:n])
		if codes[cc] {
			return d, nil
		}
	}
	return "", &Error{Reason: ReasonInvalidPhone, detail: "unknown country calling code"}
}

// parsePhone is the slow path through phonenumbers.
func parsePhone(s, region string) (string, *Error) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", &Error{Reason: ReasonInvalidPhone, detail: "not a phone number"}
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", &Error{Reason: ReasonInvalidPhone, detail: "not a possible number for its country"}
	}
	return strconv.Itoa(int(num.GetCountryCode())) + phonenumbers.GetNationalSignificantNumber(num), nil
}
