package pii_test

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/pii"
)

// TestNormalizeGoogle follows Google's normalization guidelines (Google Ads
// enhanced conversions, the Data Manager API's "Format user data" page and
// GA4's user-provided data page). Expected values are written from those
// rules, not taken from this package's output.
func TestNormalizeGoogle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field pii.Field
		opts  pii.Options
		in    string
		want  string
	}{
		{"email trimmed and lowercased", pii.Email, usOpts, "  Jane.Doe@Example.com ", "jane.doe@example.com"},
		{"gmail dots removed", pii.Email, usOpts, "Jane.Doe@gmail.com", "janedoe@gmail.com"},
		{"googlemail dots removed", pii.Email, usOpts, "j.a.n.e@GoogleMail.com", "jane@googlemail.com"},
		{"gmail plus kept (written rule names periods only)", pii.Email, usOpts, "jane.doe+ads@gmail.com", "janedoe+ads@gmail.com"},
		{"other domain keeps dots", pii.Email, usOpts, "jane.doe@gmail.co.uk", "jane.doe@gmail.co.uk"},
		{"phone US national to E.164", pii.Phone, usOpts, "(650) 555-1212", "+16505551212"},
		{"phone international kept with plus", pii.Phone, pii.Options{}, "+44 20 7946 0958", "+442079460958"},
		{"phone 00 prefix becomes plus", pii.Phone, pii.Options{}, "0044 20 7946 0958", "+442079460958"},
		{"phone UK national with region", pii.Phone, pii.Options{DefaultRegion: "GB"}, "020 7946 0958", "+442079460958"},
		{"first name lowercased", pii.FirstName, usOpts, " John ", "john"},
		{"first name punctuation removed, words kept", pii.FirstName, usOpts, "Mary-Ann  Lee", "maryann lee"},
		{"last name apostrophe removed", pii.LastName, usOpts, "O'Brien", "obrien"},
		{"last name accent kept", pii.LastName, usOpts, "Müller", "müller"},
		{"street keeps digits", pii.Street, usOpts, "1600 Amphitheatre Pkwy.", "1600 amphitheatre pkwy"},
		{"city unhashed form", pii.City, usOpts, "Menlo Park", "menlo park"},
		{"state", pii.State, usOpts, "CA", "ca"},
		{"zip US plus four", pii.Zip, usOpts, "94025-1234", "94025"},
		{"zip UK compact", pii.Zip, usOpts, "SW1A 1AA", "sw1a1aa"},
		{"country upper alpha-2", pii.Country, usOpts, "us", "US"},
		{"country from alpha-3", pii.Country, usOpts, "GBR", "GB"},
	}
	for _, p := range []pii.Platform{pii.Google, pii.GA4} {
		for _, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := pii.Normalize(p, tt.field, tt.in, tt.opts)
				if err != nil || got != tt.want {
					t.Fatalf("Normalize(%s, %s) = %q, %v; want %q", p, tt.field, got, err, tt.want)
				}
			})
		}
	}
}

// TestHashGoogle checks digests computed with `printf %s value | sha256sum`,
// and that Google's rules differ from Meta's where the platforms differ.
func TestHashGoogle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field pii.Field
		in    string
		want  string
	}{
		{"gmail", pii.Email, "John.Smith@gmail.com", "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"},
		{"phone E.164", pii.Phone, "(650) 555-1212", "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"},
		{"first name", pii.FirstName, "John", "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a"},
		{"already hashed passes through, lowercased", pii.Email, "D6117306485ED0E50AFAB3AC871E98F81699151F30281527D63FF5F233656C69", "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, h, err := pii.Hash(pii.Google, tt.field, tt.in, usOpts)
			if err != nil || h != tt.want {
				t.Fatalf("Hash = %q, %v; want %q", h, err, tt.want)
			}
		})
	}
}

func TestGoogleRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		field  pii.Field
		in     string
		reason string
	}{
		{"gender unsupported", pii.Gender, "f", pii.ReasonUnsupportedField},
		{"date of birth unsupported", pii.DateOfBirth, "1990-01-01", pii.ReasonUnsupportedField},
		{"phone without country and region", pii.Phone, "650 555 1212", pii.ReasonInvalidPhone},
		{"not an email", pii.Email, "jane at gmail", pii.ReasonInvalidEmail},
		{"gmail local part only dots", pii.Email, "..@gmail.com", pii.ReasonInvalidEmail},
		{"unknown country", pii.Country, "Atlantis", pii.ReasonInvalidCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pii.Normalize(pii.Google, tt.field, tt.in, pii.Options{})
			pe, ok := err.(*pii.Error)
			if !ok || pe.Reason != tt.reason {
				t.Fatalf("err = %v, want reason %s", err, tt.reason)
			}
		})
	}
}
