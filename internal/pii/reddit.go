package pii

import (
	"net/netip"
	"strings"
)

// Reddit is Reddit's Conversions API (v3).
const Reddit Platform = "reddit"

// redditRules is Reddit's Conversions API table. Reddit asks for the SHA-256
// of email, phone_number, external_id, ip_address and the mobile ad ids; its
// pages give no normalization beyond "hash it", so the table follows the
// common conventions (decisions in docs/platforms/reddit.md):
//
//   - email: trimmed, lowercased, must look like an address.
//   - phone: E.164 with its '+' ("+16505551212"), Reddit's stated format for
//     phone_number.
//   - external_id: as given (trimmed), it must match what the Pixel sends.
//
// The IP address is hashed too, which no other platform wants: HashIP.
var redditRules = ruleSet{
	email:      emailLower,
	phone:      phoneWithPlus,
	externalID: asGiven,
}

// HashIP returns an IP address in its canonical text form (IPv4 dotted
// decimal, IPv6 lowercase and compressed, an IPv4-mapped IPv6 address as
// IPv4) and the lowercase hex SHA-256 of that form, for Reddit's hashed
// ip_address. Two spellings of one address hash alike. A SHA-256 digest is
// passed through lowercased, never hashed twice. The error never quotes the
// value.
func HashIP(raw string) (normalized, hash string, err error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", "", &Error{Field: "ip_address", Reason: ReasonEmpty, detail: "no value"}
	}
	if IsSHA256Hex(s) {
		s = strings.ToLower(s)
		return s, s, nil
	}
	ip, perr := netip.ParseAddr(s)
	if perr != nil || ip.Zone() != "" {
		return "", "", &Error{Field: "ip_address", Reason: ReasonInvalidIP, detail: "not an IPv4 or IPv6 address"}
	}
	s = ip.Unmap().String()
	return s, SHA256Hex(s), nil
}
