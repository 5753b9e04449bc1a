package pii

// LinkedIn is LinkedIn's Conversions API.
const LinkedIn Platform = "linkedin"

// linkedinRules is LinkedIn's Conversions API table. LinkedIn takes exactly
// one hashed identifier, SHA256_EMAIL; its other user ids (the li_fat_id
// click id, Acxiom and Oracle Moat ids) are opaque and its userInfo names are
// sent in plain text, so neither goes through this package.
//
//   - email: trimmed and lowercased, must look like an address. LinkedIn's
//     page asks only for the SHA-256 of the address; trimming and lowercasing
//     is the convention every other platform documents and what LinkedIn's
//     Insight Tag does, so a mixed-case address still matches (decision, see
//     docs/platforms/linkedin.md).
var linkedinRules = ruleSet{
	email: emailLower,
}
