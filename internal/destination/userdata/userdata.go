// Package userdata builds the hashed customer information that conversion
// APIs modelled on Meta's (Snapchat, Pinterest) share — the keys em, ph, fn,
// ln, ge, db, ct, st, zp, country and external_id, each a list of SHA-256
// hex digests — and the per-value hashing every platform package does, each
// with its own platform's rules from package pii.
package userdata

import (
	"strings"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// Hasher hashes one event's values by one platform's rules. Values that
// cannot be normalized are dropped and named in Warnings (never their
// values).
type Hasher struct {
	platform pii.Platform
	opts     pii.Options
	// Warnings name the fields dropped so far.
	Warnings []string
}

// NewHasher returns a Hasher for ev: phone numbers without a country code
// take the event's address country when it is an alpha-2 code, else
// defaultRegion.
func NewHasher(p pii.Platform, ev *event.Event, defaultRegion string) *Hasher {
	region := defaultRegion
	if a := ev.User.Address; a != nil && len(a.Country) == 2 {
		region = strings.ToUpper(a.Country)
	}
	return &Hasher{platform: p, opts: pii.Options{DefaultRegion: region}}
}

// One returns raw's SHA-256 hex by the platform's rule for f, "" when raw is
// empty or cannot be normalized.
func (h *Hasher) One(f pii.Field, raw string) string {
	if raw == "" {
		return ""
	}
	_, sum, err := pii.Hash(h.platform, f, raw, h.opts)
	if err != nil {
		h.Warnings = append(h.Warnings, err.Error())
		return ""
	}
	return sum
}

// List is One as a list of at most one digest, nil for none.
func (h *Hasher) List(f pii.Field, raw string) []string {
	if sum := h.One(f, raw); sum != "" {
		return []string{sum}
	}
	return nil
}

// ExternalID is the id matched against the platform's tag: the user's
// external_id, else its user_id.
func ExternalID(u event.User) string {
	if u.ExternalID != "" {
		return u.ExternalID
	}
	return u.UserID
}

// Hashed holds the hashed customer information parameters. Platforms embed
// it in their user_data type, whose JSON then carries these keys inline.
type Hashed struct {
	Em         []string `json:"em,omitempty"`
	Ph         []string `json:"ph,omitempty"`
	Fn         []string `json:"fn,omitempty"`
	Ln         []string `json:"ln,omitempty"`
	Ge         []string `json:"ge,omitempty"`
	Db         []string `json:"db,omitempty"`
	Ct         []string `json:"ct,omitempty"`
	St         []string `json:"st,omitempty"`
	Zp         []string `json:"zp,omitempty"`
	Country    []string `json:"country,omitempty"`
	ExternalID []string `json:"external_id,omitempty"`
}

// Build hashes every identifier of u with h's platform rules.
func (h *Hasher) Build(u event.User) Hashed {
	d := Hashed{
		Em: h.List(pii.Email, u.Email), Ph: h.List(pii.Phone, u.Phone),
		Fn: h.List(pii.FirstName, u.FirstName), Ln: h.List(pii.LastName, u.LastName),
		Ge: h.List(pii.Gender, u.Gender), Db: h.List(pii.DateOfBirth, u.DateOfBirth),
		ExternalID: h.List(pii.ExternalID, ExternalID(u)),
	}
	if a := u.Address; a != nil {
		d.Ct, d.St = h.List(pii.City, a.City), h.List(pii.State, a.State)
		d.Zp, d.Country = h.List(pii.Zip, a.Zip), h.List(pii.Country, a.Country)
	}
	return d
}

// Keys lists the parameters present, in the order of the struct, for
// match-key coverage.
func (d *Hashed) Keys() []string {
	var keys []string
	for _, k := range [...]struct {
		name string
		v    []string
	}{
		{"em", d.Em}, {"ph", d.Ph}, {"fn", d.Fn}, {"ln", d.Ln}, {"ge", d.Ge}, {"db", d.Db},
		{"ct", d.Ct}, {"st", d.St}, {"zp", d.Zp}, {"country", d.Country}, {"external_id", d.ExternalID},
	} {
		if len(k.v) > 0 {
			keys = append(keys, k.name)
		}
	}
	return keys
}

// Present appends name to keys when v is not empty: the raw identifiers
// (IP address, user agent, click ids) a platform adds after Keys.
func Present(keys []string, name, v string) []string {
	if v != "" {
		return append(keys, name)
	}
	return keys
}
