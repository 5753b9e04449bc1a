package pii

// snapchatRules is Snapchat's Conversions API v3 table (developers.snap.com,
// Conversions API → Parameters):
//
//   - em: trimmed and lowercased [doc].
//   - ph: the country code followed by the number, digits only: a leading
//     "00" international prefix and the national trunk '0' are removed, and
//     so is the '+': "+44 844 412 4653" → "448444124653" [doc].
//   - fn, ln, ct: lowercase letters only; st: the US two-letter code or
//     lowercase letters; zp: lowercase, no spaces, the part before '-';
//     country: ISO alpha-2 lowercase; ge: m or f; db: YYYYMMDD. Snap says
//     these follow the same conventions as Meta's [3p], so the table shares
//     Meta's building blocks.
//   - external_id: as given (trimmed).
//
// So the table is Meta's without street, which Snap does not take.
var snapchatRules = func() ruleSet {
	r := metaRules
	r.street = nil
	return r
}()
