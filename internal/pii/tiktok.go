package pii

// tiktokRules is TikTok's Events API 2.0 table. TikTok hashes only the
// identifiers it documents as hashed: email, phone and external_id (the
// user.* keys ip, user_agent, ttclid and ttp are sent raw and never come
// through this package). Names and address parts have no rule: the
// destination does not send them, so normalize reports unsupported_field
// rather than inventing a format TikTok never documented.
//
//   - email: trimmed and lowercased [3p: RudderStack, TikTok help centre].
//   - phone: E.164 with the leading '+' and the country code, no spaces or
//     punctuation ("+12133734253"); this differs from Meta's bare digits
//     [3p: TikTok wording quoted by the Cloudflare managed component].
//   - external_id: as given (trimmed); it only has to match what the Pixel
//     sends.
var tiktokRules = ruleSet{
	email:      emailLower,
	phone:      phoneWithPlus,
	externalID: asGiven,
}
