package pii_test

import (
	"errors"
	"testing"

	"github.com/signalpipe/signalpipe/internal/pii"
)

// TestHashLinkedInRedditMicrosoft covers the tables of LinkedIn, Reddit and
// Microsoft UET. Expected digests were computed with
// `printf %s VALUE | sha256sum`, not by this package; the email example is
// Meta's documented one, which every platform that trims and lowercases must
// reproduce, and the phone examples follow E.164 as written in the ITU-T
// recommendation.
func TestHashLinkedInRedditMicrosoft(t *testing.T) {
	t.Parallel()
	const (
		emailHash   = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" // john_smith@gmail.com
		usPhoneHash = "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8" // +16505551212
		ukPhoneHash = "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d" // +442079460958
		extIDHash   = "16ec525b74b75626eb93ecad8acc749885fcf4e83c95b139342769a4ab1828a3" // u-42
	)
	us := pii.Options{DefaultRegion: "US"}
	tests := []struct {
		name     string
		platform pii.Platform
		field    pii.Field
		opts     pii.Options
		in       string
		wantNorm string
		wantHash string
		wantErr  string // reason
	}{
		{"linkedin email trimmed and lowercased", pii.LinkedIn, pii.Email, pii.Options{}, "  John_Smith@Gmail.com ", "john_smith@gmail.com", emailHash, ""},
		{"linkedin email already hashed passes through", pii.LinkedIn, pii.Email, pii.Options{}, "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F", emailHash, emailHash, ""},
		{"linkedin takes no phone", pii.LinkedIn, pii.Phone, us, "(650)555-1212", "", "", pii.ReasonUnsupportedField},
		{"linkedin names are not hashed", pii.LinkedIn, pii.FirstName, us, "John", "", "", pii.ReasonUnsupportedField},
		{"linkedin invalid email", pii.LinkedIn, pii.Email, us, "not-an-email", "", "", pii.ReasonInvalidEmail},

		{"reddit email", pii.Reddit, pii.Email, us, "John_Smith@gmail.com", "john_smith@gmail.com", emailHash, ""},
		{"reddit phone national US gets + and country code", pii.Reddit, pii.Phone, us, "(650)555-1212", "+16505551212", usPhoneHash, ""},
		{"reddit phone international UK with trunk zero", pii.Reddit, pii.Phone, pii.Options{}, "+44 (0)20 7946 0958", "+442079460958", ukPhoneHash, ""},
		{"reddit phone 00 prefix", pii.Reddit, pii.Phone, pii.Options{}, "0044 20 7946 0958", "+442079460958", ukPhoneHash, ""},
		{"reddit phone without country code or region", pii.Reddit, pii.Phone, pii.Options{}, "650 555 1212", "", "", pii.ReasonInvalidPhone},
		{"reddit external id as given", pii.Reddit, pii.ExternalID, us, " u-42 ", "u-42", extIDHash, ""},
		{"reddit takes no city", pii.Reddit, pii.City, us, "Menlo Park", "", "", pii.ReasonUnsupportedField},

		{"microsoft email", pii.Microsoft, pii.Email, us, "JOHN_SMITH@GMAIL.COM", "john_smith@gmail.com", emailHash, ""},
		{"microsoft phone E.164", pii.Microsoft, pii.Phone, us, "650.555.1212", "+16505551212", usPhoneHash, ""},
		{"microsoft phone already hashed", pii.Microsoft, pii.Phone, us, usPhoneHash, usPhoneHash, usPhoneHash, ""},
		{"microsoft takes no external id", pii.Microsoft, pii.ExternalID, us, "u-42", "", "", pii.ReasonUnsupportedField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			norm, hash, err := pii.Hash(tt.platform, tt.field, tt.in, tt.opts)
			if tt.wantErr != "" {
				var pe *pii.Error
				if !errors.As(err, &pe) || pe.Reason != tt.wantErr {
					t.Fatalf("Hash(%s, %s) error = %v, want reason %s", tt.platform, tt.field, err, tt.wantErr)
				}
				return
			}
			if err != nil || norm != tt.wantNorm || hash != tt.wantHash {
				t.Errorf("Hash(%s, %s) = (%q, %q, %v), want (%q, %q)", tt.platform, tt.field, norm, hash, err, tt.wantNorm, tt.wantHash)
			}
		})
	}
}

// TestHashIP: Reddit's hashed ip_address. Digests from sha256sum of the
// canonical spelling.
func TestHashIP(t *testing.T) {
	t.Parallel()
	const (
		v4 = "fec52565aa0cf18f57d7cf5b3ac728503b8992d2d6f7d46da1d1201090902b02" // 203.0.113.7
		v6 = "5afd19e856d1c18d17d600dfd2b5f534992333985e126c2a951047102c1ed536" // 2001:db8::1
	)
	tests := []struct {
		name     string
		in       string
		wantNorm string
		wantHash string
		wantErr  bool
	}{
		{"ipv4", " 203.0.113.7 ", "203.0.113.7", v4, false},
		{"ipv4-mapped ipv6 is ipv4", "::ffff:203.0.113.7", "203.0.113.7", v4, false},
		{"ipv6 upper case and long form", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1", v6, false},
		{"already hashed", "FEC52565AA0CF18F57D7CF5B3AC728503B8992D2D6F7D46DA1D1201090902B02", v4, v4, false},
		{"not an address", "203.0.113", "", "", true},
		{"zone is refused", "fe80::1%eth0", "", "", true},
		{"empty", "  ", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			norm, hash, err := pii.HashIP(tt.in)
			if tt.wantErr {
				var pe *pii.Error
				if !errors.As(err, &pe) {
					t.Fatalf("HashIP error = %v, want a *pii.Error", err)
				}
				return
			}
			if err != nil || norm != tt.wantNorm || hash != tt.wantHash {
				t.Errorf("HashIP = (%q, %q, %v), want (%q, %q)", norm, hash, err, tt.wantNorm, tt.wantHash)
			}
		})
	}
}
