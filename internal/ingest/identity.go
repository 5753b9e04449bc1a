package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Identity is one identifier of a person and the sp.events key it maps to.
// Rank orders identifiers by how much of a person they name: a user id
// outranks an anonymous (device/browser) id, which outranks a CRM external
// id, which outranks an email. The highest-ranked identifier an event carries
// keys it; the process stage links every lower-ranked one to it.
type Identity struct {
	Kind string
	Rank int
	Key  string
}

// Identity kinds, highest rank first.
const (
	KindUser      = "u"
	KindAnonymous = "a"
	KindExternal  = "x"
	KindEmail     = "e"
)

// Ranks of the identity kinds. RankUser is the highest: a user id is never
// linked to another identifier.
const (
	RankUser      = 4
	RankAnonymous = 3
	RankExternal  = 2
	RankEmail     = 1
)

// Identities lists the identifiers ev carries, highest rank first. Emails
// are compared by the SHA-256 of the trimmed, lowercased address, so the web
// form's and the CRM's spelling of one address meet, and so does a CRM that
// sends only that hash.
func Identities(ev *event.Event) []Identity {
	var out []Identity
	add := func(kind string, rank int, v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		if kind == KindEmail {
			v = emailHash(v)
		}
		out = append(out, Identity{Kind: kind, Rank: rank, Key: keyOf(kind + ":" + v)})
	}
	add(KindUser, RankUser, ev.User.UserID)
	add(KindAnonymous, RankAnonymous, ev.User.AnonymousID)
	add(KindExternal, RankExternal, ev.User.ExternalID)
	add(KindEmail, RankEmail, ev.User.Email)
	return out
}

// IdentityKey is the sp.events key: the highest-ranked identifier's hash,
// so a person's events meet in one partition, and no identifier appears in
// a key in clear. An event with no identifier is keyed by its event id.
func IdentityKey(ev *event.Event) []byte {
	if ids := Identities(ev); len(ids) > 0 {
		return []byte(ids[0].Key)
	}
	return []byte(keyOf("ev:" + ev.EventID))
}

func keyOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// emailHash is the hex SHA-256 of the trimmed, lowercased address; a value
// that already is such a digest is kept (lowercased).
func emailHash(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if len(v) == 64 && strings.Trim(v, "0123456789abcdef") == "" {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
