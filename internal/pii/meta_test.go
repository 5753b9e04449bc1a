package pii_test

import (
	"errors"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/pii"
)

// testNow pins the clock so date-of-birth bounds do not drift with the year
// the tests run in.
var testNow = time.Date(2026, time.March, 15, 12, 0, 0, 0, time.UTC)

var usOpts = pii.Options{DefaultRegion: "US", Now: testNow}

// TestNormalizeMeta covers Meta's documented normalization per field. The
// expected values come from Meta's customer-information-parameters page and
// the official SDK's normalize.py, not from this package's output.
func TestNormalizeMeta(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field pii.Field
		opts  pii.Options
		in    string
		want  string
	}{
		// em: trim, lowercase.
		{"email documented example", pii.Email, usOpts, "John_Smith@gmail.com", "john_smith@gmail.com"},
		{"email trimmed and lowercased", pii.Email, usOpts, "  Mary.Jones+ads@Example.CO.UK \n", "mary.jones+ads@example.co.uk"},
		{"email internationalised domain", pii.Email, usOpts, "Ana@Café.fr", "ana@café.fr"},

		// ph: digits only, country code, no '+', no leading zeros.
		{"phone documented example with US region", pii.Phone, usOpts, "(650)555-1212", "16505551212"},
		{"phone US national with dots", pii.Phone, usOpts, "650.555.1212", "16505551212"},
		{"phone US national with trunk 1", pii.Phone, usOpts, "1 (650) 555-1212", "16505551212"},
		{"phone plus prefix UK", pii.Phone, usOpts, "+44 20 7946 0958", "442079460958"},
		{"phone plus prefix without region", pii.Phone, pii.Options{}, "+44 20 7946 0958", "442079460958"},
		{"phone double zero prefix", pii.Phone, pii.Options{}, "0044 20 7946 0958", "442079460958"},
		{"phone plus with UK trunk zero in parentheses", pii.Phone, pii.Options{}, "+44 (0)20 7946 0958", "442079460958"},
		{"phone plus US with punctuation", pii.Phone, pii.Options{}, "+1 (650) 555-1212", "16505551212"},
		{"phone plus with extension goes through phonenumbers", pii.Phone, pii.Options{}, "+1 650 555 1212 ext. 42", "16505551212"},
		{"phone national UK with GB region drops trunk zero", pii.Phone, pii.Options{DefaultRegion: "GB"}, "020 7946 0958", "442079460958"},
		{"phone region in lowercase", pii.Phone, pii.Options{DefaultRegion: "gb"}, "020 7946 0958", "442079460958"},
		{"phone Italian fixed line keeps its leading zero", pii.Phone, pii.Options{DefaultRegion: "IT"}, "06 6982 1234", "390669821234"},
		{"phone national number with international prefix and region", pii.Phone, pii.Options{DefaultRegion: "DE"}, "0049 30 1234567", "49301234567"},

		// fn / ln: lowercase, no punctuation, UTF-8 kept.
		{"first name documented example", pii.FirstName, usOpts, "Mary", "mary"},
		{"first name with accent", pii.FirstName, usOpts, "Valéry", "valéry"},
		{"first name with decomposed accent is composed", pii.FirstName, usOpts, "Vale\u0301ry", "valéry"},
		{"first name Korean unchanged", pii.FirstName, usOpts, "정", "정"},
		{"last name apostrophe removed", pii.LastName, usOpts, "O'Brien", "obrien"},
		{"last name hyphen removed", pii.LastName, usOpts, "Smith-Jones", "smithjones"},
		{"last name trailing period removed", pii.LastName, usOpts, " Smith Jr. ", "smithjr"},

		// ge: f or m.
		{"gender f", pii.Gender, usOpts, "f", "f"},
		{"gender M upper", pii.Gender, usOpts, "M", "m"},
		{"gender Female", pii.Gender, usOpts, " Female ", "f"},
		{"gender MALE", pii.Gender, usOpts, "MALE", "m"},

		// db: YYYYMMDD.
		{"dob ISO", pii.DateOfBirth, usOpts, "1997-02-16", "19970216"},
		{"dob compact", pii.DateOfBirth, usOpts, "19970216", "19970216"},
		{"dob US order", pii.DateOfBirth, usOpts, "02/16/1997", "19970216"},
		{"dob US order single digits", pii.DateOfBirth, usOpts, "2/6/1997", "19970206"},
		{"dob US order with dashes", pii.DateOfBirth, usOpts, "02-16-1997", "19970216"},
		{"dob year first slashes", pii.DateOfBirth, usOpts, "1997/2/16", "19970216"},
		{"dob year first dots", pii.DateOfBirth, usOpts, "1997.02.16", "19970216"},
		{"dob ISO timestamp", pii.DateOfBirth, usOpts, "1997-02-16T00:00:00Z", "19970216"},
		{"dob leap day", pii.DateOfBirth, usOpts, "2000-02-29", "20000229"},
		{"dob year 1900", pii.DateOfBirth, usOpts, "1900-01-01", "19000101"},
		{"dob current year", pii.DateOfBirth, usOpts, "2026-01-01", "20260101"},

		// ct: lowercase, no spaces, digits or punctuation.
		{"city documented example", pii.City, usOpts, "Menlo Park", "menlopark"},
		{"city with period", pii.City, usOpts, "St. Louis", "stlouis"},
		{"city with digits and parentheses", pii.City, usOpts, "Paris (75001)", "paris"},
		{"city non-Latin", pii.City, usOpts, "São Paulo", "sãopaulo"},

		// st: US two-letter code, lowercase.
		{"state code", pii.State, usOpts, "CA", "ca"},
		{"state full name", pii.State, usOpts, "California", "ca"},
		{"state two-word name", pii.State, usOpts, "New York", "ny"},
		{"state abbreviation with periods", pii.State, usOpts, "N.Y.", "ny"},
		{"state district", pii.State, usOpts, "District of Columbia", "dc"},
		{"state non-US stays letters", pii.State, usOpts, "Baden-Württemberg", "badenwürttemberg"},

		// zp: lowercase, no spaces, part before '-'.
		{"zip documented example", pii.Zip, usOpts, "94025", "94025"},
		{"zip plus four", pii.Zip, usOpts, "94025-1234", "94025"},
		{"zip UK", pii.Zip, usOpts, "SW1A 1AA", "sw1a1aa"},

		// country: ISO 3166-1 alpha-2, lowercase.
		{"country documented example", pii.Country, usOpts, "US", "us"},
		{"country lowercase", pii.Country, usOpts, "fr", "fr"},
		{"country with periods", pii.Country, usOpts, "U.S.", "us"},
		{"country alpha-3", pii.Country, usOpts, "DEU", "de"},
		{"country alpha-3 with periods", pii.Country, usOpts, "U.S.A.", "us"},
		{"country common name", pii.Country, usOpts, "United Kingdom", "gb"},
		{"country UK alias", pii.Country, usOpts, "UK", "gb"},

		// external_id: no rule, only trimmed.
		{"external id kept as is", pii.ExternalID, usOpts, "  CRM-00042_Ab ", "CRM-00042_Ab"},

		// street: lowercase, whitespace collapsed.
		{"street", pii.Street, usOpts, "  1 Hacker   Way,\tApt 4 ", "1 hacker way, apt 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := pii.Normalize(pii.Meta, tt.field, tt.in, tt.opts)
			if err != nil {
				t.Fatalf("Normalize(%s, %q) error: %v", tt.field, tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%s, %q) = %q, want %q", tt.field, tt.in, got, tt.want)
			}
		})
	}
}

// TestHashMetaFixtures pins full digests. The email and phone digests are
// Meta's documented examples (prefixes 62a14e44 and e323ec62); every digest
// here was computed independently with `printf %s VALUE | sha256sum`.
func TestHashMetaFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		field    pii.Field
		in       string
		wantNorm string
		want     string
	}{
		{"email documented", pii.Email, "John_Smith@gmail.com", "john_smith@gmail.com",
			"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"},
		{"phone documented", pii.Phone, "(650)555-1212", "16505551212",
			"e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"},
		{"phone plus prefix", pii.Phone, "+44 20 7946 0958", "442079460958",
			"35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823"},
		{"first name", pii.FirstName, "Mary", "mary",
			"6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"},
		{"first name UTF-8", pii.FirstName, "Valéry", "valéry",
			"08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"},
		{"gender", pii.Gender, "Female", "f",
			"252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111"},
		{"date of birth", pii.DateOfBirth, "02/14/1990", "19900214",
			"80fb6af0c4310e4790db22c054d0c42a95c39ae4f1e14691ffbf69ce9e612940"},
		{"city", pii.City, "Menlo Park", "menlopark",
			"0007a3d64c01e23d5075203c5977c14e4f7e01a3fc570686fcc50b5e1dd42685"},
		{"state", pii.State, "California", "ca",
			"6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126"},
		{"zip", pii.Zip, "94025-1234", "94025",
			"b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7"},
		{"country", pii.Country, "US", "us",
			"79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			norm, got, err := pii.Hash(pii.Meta, tt.field, tt.in, usOpts)
			if err != nil {
				t.Fatalf("Hash(%s, %q) error: %v", tt.field, tt.in, err)
			}
			if norm != tt.wantNorm {
				t.Errorf("normalized = %q, want %q", norm, tt.wantNorm)
			}
			if got != tt.want {
				t.Errorf("hash = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestHashPassthrough checks that values hashed upstream are sent as they
// are (lowercased) and never hashed a second time, whatever the field's rule
// would say about them.
func TestHashPassthrough(t *testing.T) {
	t.Parallel()
	const emailDigest = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	const phoneDigest = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
	tests := []struct {
		name  string
		field pii.Field
		in    string
		want  string
	}{
		{"lowercase digest", pii.Email, emailDigest, emailDigest},
		{"uppercase digest comes back lowercase", pii.Email, "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F", emailDigest},
		{"surrounding space ignored", pii.Phone, "  " + phoneDigest + "\n", phoneDigest},
		{"field rule not applied to digest", pii.Country, emailDigest, emailDigest},
		{"external id digest", pii.ExternalID, phoneDigest, phoneDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			norm, got, err := pii.Hash(pii.Meta, tt.field, tt.in, pii.Options{})
			if err != nil {
				t.Fatalf("Hash error: %v", err)
			}
			if got != tt.want || norm != tt.want {
				t.Errorf("Hash = (%s, %s), want %s for both", norm, got, tt.want)
			}
			if got == pii.SHA256Hex(tt.want) {
				t.Errorf("digest was hashed again")
			}
			n, err := pii.Normalize(pii.Meta, tt.field, tt.in, pii.Options{})
			if err != nil || n != tt.want {
				t.Errorf("Normalize = (%q, %v), want %s", n, err, tt.want)
			}
		})
	}
}

// TestNormalizeMetaErrors checks the rejections and their reason codes.
func TestNormalizeMetaErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field pii.Field
		opts  pii.Options
		in    string
		want  string // Reason
	}{
		{"email without at", pii.Email, usOpts, "john.smith.gmail.com", pii.ReasonInvalidEmail},
		{"email without domain dot", pii.Email, usOpts, "john@localhost", pii.ReasonInvalidEmail},
		{"email with inner space", pii.Email, usOpts, "john smith@gmail.com", pii.ReasonInvalidEmail},
		{"email with two ats", pii.Email, usOpts, "a@b@gmail.com", pii.ReasonInvalidEmail},
		{"email empty local part", pii.Email, usOpts, "@gmail.com", pii.ReasonInvalidEmail},
		{"email empty domain label", pii.Email, usOpts, "john@gmail..com", pii.ReasonInvalidEmail},
		{"email trailing dot", pii.Email, usOpts, "john@gmail.com.", pii.ReasonInvalidEmail},

		{"phone national without region", pii.Phone, pii.Options{}, "(650)555-1212", pii.ReasonInvalidPhone},
		{"phone plus too short", pii.Phone, usOpts, "+1 555", pii.ReasonInvalidPhone},
		{"phone plus too long", pii.Phone, usOpts, "+1 650 555 1212 1234 5", pii.ReasonInvalidPhone},
		{"phone plus zero country code", pii.Phone, usOpts, "+0 650 555 1212", pii.ReasonInvalidPhone},
		{"phone plus unassigned country code", pii.Phone, usOpts, "+999 123 4567", pii.ReasonInvalidPhone},
		{"phone national too short for US", pii.Phone, usOpts, "555-12", pii.ReasonInvalidPhone},
		{"phone words", pii.Phone, usOpts, "call me maybe", pii.ReasonInvalidPhone},
		{"phone unknown default region", pii.Phone, pii.Options{DefaultRegion: "XX"}, "650 555 1212", pii.ReasonInvalidRegion},

		{"gender other word", pii.Gender, usOpts, "unknown", pii.ReasonInvalidGender},
		{"gender mf", pii.Gender, usOpts, "mf", pii.ReasonInvalidGender},

		{"dob day first with dots", pii.DateOfBirth, usOpts, "14.02.1990", pii.ReasonInvalidDate},
		{"dob month 13", pii.DateOfBirth, usOpts, "1990-13-01", pii.ReasonInvalidDate},
		{"dob day first with slash is not US order", pii.DateOfBirth, usOpts, "14/02/1990", pii.ReasonInvalidDate},
		{"dob February 30", pii.DateOfBirth, usOpts, "1990-02-30", pii.ReasonInvalidDate},
		{"dob non-leap February 29", pii.DateOfBirth, usOpts, "1900-02-29", pii.ReasonInvalidDate},
		{"dob before 1900", pii.DateOfBirth, usOpts, "1899-12-31", pii.ReasonInvalidDate},
		{"dob after current year", pii.DateOfBirth, usOpts, "2027-01-01", pii.ReasonInvalidDate},
		{"dob two-digit year", pii.DateOfBirth, usOpts, "02/14/90", pii.ReasonInvalidDate},
		{"dob mixed separators", pii.DateOfBirth, usOpts, "1990-02/14", pii.ReasonInvalidDate},
		{"dob words", pii.DateOfBirth, usOpts, "Feb 14 1990", pii.ReasonInvalidDate},

		{"country unknown code", pii.Country, usOpts, "XX", pii.ReasonInvalidCountry},
		{"country withdrawn code", pii.Country, usOpts, "AN", pii.ReasonInvalidCountry},
		{"country unknown name", pii.Country, usOpts, "Atlantis", pii.ReasonInvalidCountry},

		{"city only digits leaves nothing", pii.City, usOpts, "75001", pii.ReasonEmpty},
		{"name only punctuation leaves nothing", pii.FirstName, usOpts, "--", pii.ReasonEmpty},
		{"zip only a dash part", pii.Zip, usOpts, "-1234", pii.ReasonEmpty},

		{"invalid UTF-8", pii.FirstName, usOpts, "Mar\xffy", pii.ReasonInvalidUTF8},
		{"too long", pii.ExternalID, usOpts, string(make([]byte, 1025)), pii.ReasonTooLong},
		{"unknown field", pii.Field("shoe_size"), usOpts, "42", pii.ReasonUnknownField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := pii.Normalize(pii.Meta, tt.field, tt.in, tt.opts)
			var pe *pii.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Normalize(%s, %q) = (%q, %v), want *pii.Error with reason %s", tt.field, tt.in, got, err, tt.want)
			}
			if pe.Reason != tt.want || pe.Field != tt.field {
				t.Errorf("error = {Field: %s, Reason: %s}, want {Field: %s, Reason: %s}", pe.Field, pe.Reason, tt.field, tt.want)
			}
			if got != "" {
				t.Errorf("normalized = %q alongside an error, want empty", got)
			}
		})
	}
}

// TestEmptyValues checks that blank input is rejected for every field rather
// than hashed: the hash of "" would look valid and match nobody.
func TestEmptyValues(t *testing.T) {
	t.Parallel()
	for _, f := range pii.Fields() {
		for _, in := range []string{"", " ", "\t\n  ", "\u00a0\u2003"} {
			t.Run(string(f), func(t *testing.T) {
				t.Parallel()
				norm, hash, err := pii.Hash(pii.Meta, f, in, usOpts)
				var pe *pii.Error
				if !errors.As(err, &pe) || pe.Reason != pii.ReasonEmpty || pe.Field != f {
					t.Fatalf("Hash(%s, %q) = (%q, %q, %v), want *pii.Error{Field: %s, Reason: empty}", f, in, norm, hash, err, f)
				}
			})
		}
	}
}

func TestUnknownPlatform(t *testing.T) {
	t.Parallel()
	_, _, err := pii.Hash(pii.Platform("myspace"), pii.Email, "john@example.com", pii.Options{})
	var pe *pii.Error
	if !errors.As(err, &pe) || pe.Reason != pii.ReasonUnknownPlatform {
		t.Fatalf("err = %v, want reason %s", err, pii.ReasonUnknownPlatform)
	}
}

// TestDateOfBirthDefaultNow checks that a zero Options.Now means the real
// current year: a birthday on 1 January of this year is accepted, one next
// year is not.
func TestDateOfBirthDefaultNow(t *testing.T) {
	t.Parallel()
	year := time.Now().Year()
	tests := []struct {
		name   string
		in     string
		wantOK bool
	}{
		{"this year", time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), true},
		{"next year", time.Date(year+1, 12, 31, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pii.Normalize(pii.Meta, pii.DateOfBirth, tt.in, pii.Options{})
			if (err == nil) != tt.wantOK {
				t.Errorf("Normalize(%q) error = %v, want ok=%v", tt.in, err, tt.wantOK)
			}
		})
	}
}
