package pii_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/signalpipe/signalpipe/internal/pii"
)

func TestFields(t *testing.T) {
	t.Parallel()
	want := []pii.Field{"email", "phone", "first_name", "last_name", "gender", "date_of_birth",
		"city", "state", "zip", "country", "external_id", "street"}
	got := pii.Fields()
	if !slices.Equal(got, want) {
		t.Fatalf("Fields() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if pii.Fields()[0] != pii.Email {
		t.Errorf("mutating the returned slice changed the package's list")
	}
}

func TestParseField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want pii.Field
	}{
		{"canonical", "email", pii.Email},
		{"upper case and space", " Date_Of_Birth ", pii.DateOfBirth},
		{"last in list", "street", pii.Street},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := pii.ParseField(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseField(%q) = (%q, %v), want %q", tt.in, got, err, tt.want)
			}
		})
	}
	t.Run("unknown lists valid names", func(t *testing.T) {
		t.Parallel()
		_, err := pii.ParseField("em")
		var pe *pii.Error
		if !errors.As(err, &pe) || pe.Reason != pii.ReasonUnknownField {
			t.Fatalf("ParseField(em) error = %v, want reason %s", err, pii.ReasonUnknownField)
		}
		for _, f := range pii.Fields() {
			if !strings.Contains(err.Error(), string(f)) {
				t.Errorf("error %q does not list %q", err, f)
			}
		}
	})
}

func TestParsePlatform(t *testing.T) {
	t.Parallel()
	for _, p := range []pii.Platform{pii.Meta, pii.LinkedIn, pii.Reddit, pii.Microsoft} {
		if got := pii.Platforms(); !slices.Contains(got, p) {
			t.Errorf("Platforms() = %v, want it to hold %s", got, p)
		}
	}
	tests := []struct {
		name    string
		in      string
		want    pii.Platform
		wantErr bool
	}{
		{"meta", "meta", pii.Meta, false},
		{"case and space", " Meta ", pii.Meta, false},
		{"unknown", "friendster", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := pii.ParsePlatform(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("ParsePlatform(%q) = (%q, %v), want (%q, err=%v)", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "meta") {
				t.Errorf("error %q does not list the supported platforms", err)
			}
		})
	}
}

func TestSHA256Hex(t *testing.T) {
	t.Parallel()
	// FIPS 180-2 / well-known vectors.
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pii.SHA256Hex(tt.in); got != tt.want {
				t.Errorf("SHA256Hex(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsSHA256Hex(t *testing.T) {
	t.Parallel()
	digest := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"lowercase", digest, true},
		{"uppercase", strings.ToUpper(digest), true},
		{"63 chars", digest[1:], false},
		{"65 chars", digest + "0", false},
		{"non-hex letter", "g" + digest[1:], false},
		{"MD5 length", digest[:32], false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pii.IsSHA256Hex(tt.in); got != tt.want {
				t.Errorf("IsSHA256Hex(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestErrorsNeverContainInput feeds every field personal-looking values it
// must reject and checks that neither the message nor any formatting of the
// error reveals them: error text ends up in logs and dead-letter records.
func TestErrorsNeverContainInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field pii.Field
		opts  pii.Options
		in    string
	}{
		{"email", pii.Email, usOpts, "Jane.Secret-Doe AT example dot com"},
		{"email two ats", pii.Email, usOpts, "jane.secret@doe@example.com"},
		{"phone no country code", pii.Phone, pii.Options{}, "(650) 555-0199"},
		{"phone too short", pii.Phone, usOpts, "+1 650 5"},
		{"phone bad region", pii.Phone, pii.Options{DefaultRegion: "QQ"}, "650 555 0199"},
		{"phone letters", pii.Phone, usOpts, "janes-mobile-number"},
		{"gender", pii.Gender, usOpts, "prefers-not-to-say-jane"},
		{"date", pii.DateOfBirth, usOpts, "31.12.1985"},
		{"date future", pii.DateOfBirth, usOpts, "2099-12-31"},
		{"country", pii.Country, usOpts, "Janesland Republic"},
		{"first name punctuation only", pii.FirstName, usOpts, "?!?!-;;"},
		{"invalid utf8", pii.LastName, usOpts, "Doe-\xff-Secret"},
		{"unknown field", pii.Field("ssn"), usOpts, "078-05-1120"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := pii.Hash(pii.Meta, tt.field, tt.in, tt.opts)
			if err == nil {
				t.Fatalf("Hash(%s, %q) succeeded, want an error", tt.field, tt.in)
			}
			for _, text := range []string{err.Error(), fmt.Sprint(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, leak := range []string{tt.in, strings.ToLower(tt.in), strings.TrimSpace(tt.in)} {
					if strings.Contains(text, leak) {
						t.Errorf("error text %q contains the input", text)
					}
				}
			}
			var pe *pii.Error
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), string(tt.field)+": "+pe.Reason) {
				t.Errorf("error %q is not of the form \"field: reason (...)\"", err)
			}
		})
	}
}
