package pii

import "strings"

// pinterestRules is Pinterest's Conversions API v5 table (API reference,
// ConversionEventsUserData):
//
//   - em: lowercase [doc].
//   - ph: digits only with the country code, no symbols, letters, spaces or
//     leading zeros [doc].
//   - fn, ln: lowercase [doc]; punctuation is removed as for the other
//     platforms so that "O'Brien" matches what Pinterest's tag hashes.
//   - ge: "f", "m" or "n" [doc].
//   - db: year, month, day as YYYYMMDD [doc].
//   - ct: lowercase without spaces or punctuation [doc].
//   - st: two-letter code in lowercase [doc] (full US state names are mapped).
//   - zp: digits only [doc]: the part before '-' (US ZIP+4 → 5 digits).
//     Postal codes that contain letters (UK, Canada) keep their letters in
//     lowercase without spaces, since digits alone would not identify them.
//   - country: ISO alpha-2 lowercase [doc].
//   - external_id: as given (trimmed).
var pinterestRules = ruleSet{
	email:       emailLower,
	phone:       phoneDigits,
	firstName:   letters,
	lastName:    letters,
	gender:      pinterestGender,
	dateOfBirth: dateYYYYMMDD,
	city:        letters,
	state:       usStateOrLetters,
	zip:         pinterestZip,
	country:     countryAlpha2,
	externalID:  asGiven,
}

// pinterestGender accepts Pinterest's third value, "n" (non-binary), besides
// m/male and f/female.
func pinterestGender(s string, o Options) (string, *Error) {
	switch strings.ToLower(s) {
	case "n", "nonbinary", "non-binary":
		return "n", nil
	}
	g, err := genderMF(s, o)
	if err != nil {
		err.detail = "expected m, f, n, male, female or non-binary"
	}
	return g, err
}

// pinterestZip keeps only the digits of the part before '-', unless the code
// holds letters, in which case it is lowercased without spaces.
func pinterestZip(s string, o Options) (string, *Error) {
	z, err := zipBeforeDash(s, o)
	if err != nil {
		return "", err
	}
	if strings.IndexFunc(z, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0 {
		return z, nil
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, z), nil
}
