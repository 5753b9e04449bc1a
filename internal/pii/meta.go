package pii

// metaRules is Meta's Conversions API table, from the customer-information
// parameters page and the official SDK's normalize.py:
//
//   - em: trimmed, lowercased, must look like an address.
//   - ph: digits only, with country code, no '+' and no leading zeros.
//   - fn, ln: lowercase without punctuation; non-Latin letters stay UTF-8.
//   - ge: "m" or "f".
//   - db: YYYYMMDD, year 1900..current.
//   - ct: lowercase without spaces, digits or punctuation.
//   - st: US two-letter code in lowercase; elsewhere letters only.
//   - zp: lowercase without spaces; the part before '-' (US ZIP+4 → 5 digits).
//   - country: ISO 3166-1 alpha-2 in lowercase; invalid codes are rejected.
//   - external_id: no rule from Meta, it only has to match the Pixel, so it
//     is sent as given (trimmed).
//   - street: Meta takes no street; the rule exists for the CLI and for
//     platforms that do.
var metaRules = ruleSet{
	email:       emailLower,
	phone:       phoneDigits,
	firstName:   letters,
	lastName:    letters,
	gender:      genderMF,
	dateOfBirth: dateYYYYMMDD,
	city:        letters,
	state:       usStateOrLetters,
	zip:         zipBeforeDash,
	country:     countryAlpha2,
	externalID:  asGiven,
	street:      streetLower,
}
