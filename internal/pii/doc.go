// Package pii normalizes personal data (email, phone, name, address, …) and
// hashes it with SHA-256 the way each ad platform's conversion API expects.
//
// Every platform asks for the same thing on the wire — the lowercase hex
// SHA-256 of the UTF-8 normalized value — but each one defines "normalized"
// differently: Meta wants phone numbers as bare digits with the country code
// ("16505551212"), Google and TikTok want E.164 with a '+', Google removes
// dots from Gmail local parts, and so on. A single shared normalizer therefore
// produces hashes that silently fail to match on some platform: nothing
// errors, match rates just drop. So the package keeps one rule table per
// platform (a ruleSet: one function per canonical Field), assembled from
// shared, platform-neutral building blocks (phone resolution, letter folding,
// date parsing, country lookup). Adding a platform means adding one table and
// one entry in the platform list; the public API (Normalize, Hash) does not
// change, and tests can compare tables field by field.
//
// Values that already look like a SHA-256 hex digest are passed through
// (lowercased) and never hashed twice, so upstream systems may hash on their
// own.
//
// Errors are *Error values carrying the field and a short reason code. They
// never contain the raw input: it is personal data and error strings end up in
// logs, dead-letter records and reports.
//
// All functions are safe for concurrent use; the package holds no mutable
// state.
package pii
