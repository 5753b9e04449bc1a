// Package sandbox emulates the ad platforms' conversion APIs on a local HTTP
// server, so signalpipe can be run, demonstrated and tested without reaching
// the real platforms.
//
// Each emulated platform enforces its platform's documented contract
// (../shared/reference/platform-apis.md) and answers the way the platform
// would: the same status codes, error envelopes and error codes. It records
// the events it accepted, so tests and the report page can compare what was
// sent with what arrived, and it can be told to fail (see Fault) so the
// delivery layer's retries, back-off and breaker can be exercised.
//
// The package deliberately imports nothing else of signalpipe: it is an
// independent check of what the destinations send, not a second copy of their
// mapping code.
//
// # Layout
//
// server.go holds the Server, its options and the routing shared by every
// platform; fault.go and faultspec.go the fault injection (state, HTTP
// middleware, and the flag/JSON syntax); record.go the bounded event log with
// duplicate counting; admin.go the /_sandbox/* HTTP API. Each platform lives in
// files named after it (meta*.go): its routes, its contract checks, its error
// envelope and its recorder. Adding a platform means implementing the small
// platform interface in server.go and adding it to the emulators list there.
//
// Every platform is served at its real path (Meta: POST /{version}/{pixel}/events)
// and also under /{platform}/ (POST /meta/{version}/{pixel}/events), because
// some real paths collide across platforms (Snapchat's is /v3/{pixel}/events).
//
// # Meta contract
//
// The Meta emulator rejects a whole batch when any event breaks a rule, as the
// real API does, with HTTP 400 and a Graph error of code 100. The subcode says
// which rule; the error_user_msg names the event as data[i]:
//
//	2804003  event_time older than 7 days (62 for physical_store)   [seen in third-party code]
//	2804004  event_time more than 60 s in the future                  [sandbox-assigned]
//	2804016  em, ph, fn, ln, ge, db, ct, st, zp or country not hashed [doc]
//	2804050  user_data without any customer information parameter   [seen in third-party code]
//	2804019  any other invalid or missing event parameter            [seen in third-party code]
//
// A missing or wrong access token is code 190 (OAuthException); a missing,
// empty or oversized data array is code 100 without subcode; a body over
// 5 MiB is HTTP 413.
package sandbox
