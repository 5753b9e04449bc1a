package pii_test

import (
	"errors"
	"testing"

	"github.com/signalpipe/signalpipe/internal/pii"
)

// TestNormalizeTikTokSnapchatPinterest covers the three platforms' documented
// normalization. Expected values come from each platform's documentation
// (cited per row), and every digest was computed independently with
// `printf %s VALUE | sha256sum`.
func TestNormalizeTikTokSnapchatPinterest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		platform pii.Platform
		field    pii.Field
		opts     pii.Options
		in       string
		wantNorm string
		wantHash string // "" skips the digest check
	}{
		// TikTok: phone E.164 with '+'; email trimmed and lowercased.
		{"tiktok phone E.164 example", pii.TikTok, pii.Phone, pii.Options{}, "+1 (213) 373-4253", "+12133734253",
			"9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"},
		{"tiktok national phone with region gets the plus", pii.TikTok, pii.Phone, usOpts, "(650) 555-1212", "+16505551212",
			"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"},
		{"tiktok 00 prefix becomes plus", pii.TikTok, pii.Phone, pii.Options{}, "0044 20 7946 0958", "+442079460958", ""},
		{"tiktok email", pii.TikTok, pii.Email, usOpts, " John_Smith@Gmail.com ", "john_smith@gmail.com",
			"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"},
		{"tiktok external id as given", pii.TikTok, pii.ExternalID, usOpts, " u-42 ", "u-42",
			"16ec525b74b75626eb93ecad8acc749885fcf4e83c95b139342769a4ab1828a3"},

		// Snapchat: digits only, no '+', no 00, no trunk 0 ("+44 844 412 4653" → "448444124653").
		{"snapchat documented phone example", pii.Snapchat, pii.Phone, pii.Options{}, "+44 844 412 4653", "448444124653",
			"dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383"},
		{"snapchat 00 prefix dropped", pii.Snapchat, pii.Phone, pii.Options{}, "0044 844 412 4653", "448444124653", ""},
		{"snapchat trunk zero dropped", pii.Snapchat, pii.Phone, pii.Options{DefaultRegion: "GB"}, "0844 412 4653", "448444124653", ""},
		{"snapchat (0) after country code dropped", pii.Snapchat, pii.Phone, pii.Options{}, "+44 (0)844 412 4653", "448444124653", ""},
		{"snapchat email", pii.Snapchat, pii.Email, usOpts, "John_Smith@gmail.com", "john_smith@gmail.com",
			"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"},
		{"snapchat first name", pii.Snapchat, pii.FirstName, usOpts, "Mary", "mary",
			"6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"},

		// Pinterest: phone digits only; ge f/m/n; zp digits only.
		{"pinterest phone digits", pii.Pinterest, pii.Phone, usOpts, "+1 (650) 555-1212", "16505551212",
			"e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"},
		{"pinterest gender n", pii.Pinterest, pii.Gender, usOpts, "N", "n",
			"1b16b1df538ba12dc3f97edbb85caa7050d46c148134290feba80f8236c83db9"},
		{"pinterest gender female", pii.Pinterest, pii.Gender, usOpts, "Female", "f", ""},
		{"pinterest zip plus four digits only", pii.Pinterest, pii.Zip, usOpts, "94025-1234", "94025",
			"b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7"},
		{"pinterest zip with letters keeps them", pii.Pinterest, pii.Zip, usOpts, "SW1A 1AA", "sw1a1aa",
			"830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614"},
		{"pinterest state two letters", pii.Pinterest, pii.State, usOpts, "California", "ca", ""},
		{"pinterest city no spaces", pii.Pinterest, pii.City, usOpts, "San Francisco", "sanfrancisco", ""},
		{"pinterest country", pii.Pinterest, pii.Country, usOpts, "US", "us", ""},
		{"pinterest dob", pii.Pinterest, pii.DateOfBirth, usOpts, "1997-02-16", "19970216", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			norm, h, err := pii.Hash(tt.platform, tt.field, tt.in, tt.opts)
			if err != nil {
				t.Fatalf("Hash(%s, %s) error: %v", tt.platform, tt.field, err)
			}
			if norm != tt.wantNorm {
				t.Errorf("normalized = %q, want %q", norm, tt.wantNorm)
			}
			if tt.wantHash != "" && h != tt.wantHash {
				t.Errorf("hash = %s, want %s", h, tt.wantHash)
			}
		})
	}
}

// TestPlatformRulesRejections checks what each table refuses, by reason.
func TestPlatformRulesRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		platform pii.Platform
		field    pii.Field
		opts     pii.Options
		in       string
		reason   string
	}{
		{"tiktok has no first name rule", pii.TikTok, pii.FirstName, usOpts, "Mary", pii.ReasonUnsupportedField},
		{"tiktok national phone without region", pii.TikTok, pii.Phone, pii.Options{}, "650 555 1212", pii.ReasonInvalidPhone},
		{"snapchat bad email", pii.Snapchat, pii.Email, usOpts, "not-an-email", pii.ReasonInvalidEmail},
		{"snapchat has no street", pii.Snapchat, pii.Street, usOpts, "1 Main St", pii.ReasonUnsupportedField},
		{"pinterest unknown gender", pii.Pinterest, pii.Gender, usOpts, "x", pii.ReasonInvalidGender},
		{"pinterest country made up", pii.Pinterest, pii.Country, usOpts, "Narnia", pii.ReasonInvalidCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := pii.Hash(tt.platform, tt.field, tt.in, tt.opts)
			var pe *pii.Error
			if !errors.As(err, &pe) || pe.Reason != tt.reason {
				t.Fatalf("err = %v, want reason %s", err, tt.reason)
			}
		})
	}
}

// TestPlatformsNeverDoubleHash: a digest passes through every table as is.
func TestPlatformsNeverDoubleHash(t *testing.T) {
	t.Parallel()
	const digest = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
	for _, p := range []pii.Platform{pii.TikTok, pii.Snapchat, pii.Pinterest} {
		for _, f := range []pii.Field{pii.Email, pii.Phone, pii.ExternalID} {
			_, h, err := pii.Hash(p, f, digest, pii.Options{})
			if err != nil || h != digest {
				t.Errorf("%s/%s: Hash = %s, %v; want the digest unchanged", p, f, h, err)
			}
		}
		if got, err := pii.ParsePlatform(" " + string(p) + " "); err != nil || got != p {
			t.Errorf("ParsePlatform(%s) = %s, %v", p, got, err)
		}
	}
}
