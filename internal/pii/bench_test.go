package pii_test

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/pii"
)

// typicalUser is what a checkout event usually carries, phone already in
// international form.
var typicalUser = []struct {
	field pii.Field
	raw   string
}{
	{pii.Email, "John_Smith@Gmail.com"},
	{pii.Phone, "+1 (650) 555-1212"},
	{pii.FirstName, "John"},
	{pii.LastName, "O'Smith"},
	{pii.City, "Menlo Park"},
	{pii.State, "CA"},
	{pii.Zip, "94025-1234"},
	{pii.Country, "US"},
	{pii.ExternalID, "crm-0004217"},
}

// BenchmarkHashMetaUserData hashes a whole typical user for Meta. One op is
// the full user (nine fields); the target is well under 5µs.
func BenchmarkHashMetaUserData(b *testing.B) {
	opts := pii.Options{DefaultRegion: "US", Now: testNow}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range typicalUser {
			if _, _, err := pii.Hash(pii.Meta, v.field, v.raw, opts); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkHashMetaPhone shows what the '+' fast path saves over a national
// number that has to go through phonenumbers.
func BenchmarkHashMetaPhone(b *testing.B) {
	opts := pii.Options{DefaultRegion: "US", Now: testNow}
	for _, bm := range []struct {
		name string
		raw  string
	}{
		{"international_fast_path", "+1 (650) 555-1212"},
		{"national_phonenumbers", "(650) 555-1212"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := pii.Hash(pii.Meta, pii.Phone, bm.raw, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
