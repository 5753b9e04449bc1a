package pii

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// googleRules is the table of Google's conversion APIs: the Data Manager API
// (events:ingest), the Google Ads API (click conversions, adjustments and
// enhanced conversions for leads) and GA4's Measurement Protocol user_data,
// which Google documents as using the same normalization:
//
//   - email: trimmed and lowercased; for gmail.com and googlemail.com every
//     '.' in the local part is removed. '+' is kept: Google's written rule
//     names only the periods (its Python sample also strips '+', but the
//     text does not; platform-apis.md §0 records the discrepancy).
//   - phone: E.164 with '+': "+16505551212".
//   - first_name, last_name: lowercase, digits and punctuation removed, inner
//     whitespace collapsed to one space ("Mary Ann" → "mary ann"); Google
//     says "no punctuation" and never asks to join words.
//   - street: lowercase, punctuation removed, digits kept, whitespace
//     collapsed ("1600 Amphitheatre Pkwy." → "1600 amphitheatre pkwy").
//   - city, state: like names (GA4 sends them unhashed, normalized so).
//   - zip: lowercase without whitespace or punctuation; a US ZIP+4 keeps its
//     five digits ("94025-1234" → "94025"). Sent unhashed.
//   - country: ISO 3166-1 alpha-2 in UPPER case ("US"), as Google's region
//     codes are written. Sent unhashed.
//   - gender, date_of_birth, external_id: Google's conversion APIs take
//     none of them hashed, so the table has no rule (unsupported_field).
var googleRules = ruleSet{
	email:     emailGoogle,
	phone:     phoneWithPlus,
	firstName: wordsLower,
	lastName:  wordsLower,
	city:      wordsLower,
	state:     wordsLower,
	zip:       postalCompact,
	country:   countryUpper,
	street:    streetGoogle,
}

// emailGoogle lowercases and checks an address and removes the periods of a
// gmail.com or googlemail.com local part.
func emailGoogle(s string, o Options) (string, *Error) {
	s, err := emailLower(s, o)
	if err != nil {
		return "", err
	}
	local, domain, _ := strings.Cut(s, "@")
	if domain == "gmail.com" || domain == "googlemail.com" {
		local = strings.ReplaceAll(local, ".", "")
		if local == "" {
			return "", &Error{Reason: ReasonInvalidEmail, detail: "nothing left of the local part"}
		}
		return local + "@" + domain, nil
	}
	return s, nil
}

// wordsLower lowercases, drops digits, punctuation and symbols, and collapses
// whitespace to single spaces; letters of every script are kept (NFC).
func wordsLower(s string, _ Options) (string, *Error) { return foldWords(s, false), nil }

// streetGoogle is wordsLower that keeps digits, which house numbers need.
func streetGoogle(s string, _ Options) (string, *Error) { return foldWords(s, true), nil }

func foldWords(s string, keepDigits bool) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsMark(r) || keepDigits && unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsSpace(r):
			space = true
		}
	}
	return norm.NFC.String(b.String())
}

// postalCompact lowercases and keeps only letters and digits, after cutting
// a US ZIP+4 extension: "94025-1234" → "94025", "SW1A 1AA" → "sw1a1aa".
func postalCompact(s string, o Options) (string, *Error) {
	s, _ = zipBeforeDash(s, o)
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s), nil
}

// countryUpper is countryAlpha2 in upper case.
func countryUpper(s string, o Options) (string, *Error) {
	c, err := countryAlpha2(s, o)
	if err != nil {
		return "", err
	}
	return strings.ToUpper(c), nil
}
