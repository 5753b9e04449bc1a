package pii

// Microsoft is Microsoft Advertising's UET Conversions API (and its offline
// conversions, which take no personal data).
const Microsoft Platform = "microsoft"

// microsoftRules is the UET Conversions API table for userData.em and
// userData.ph, both SHA-256. Microsoft's guide states only that they are
// hashed; the formats below match Microsoft Advertising's enhanced
// conversions (decisions in docs/platforms/microsoft.md):
//
//   - email: trimmed, lowercased, must look like an address.
//   - phone: E.164 with its '+' ("+16505551212").
var microsoftRules = ruleSet{
	email: emailLower,
	phone: phoneWithPlus,
}
