package pii

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// TestCountryTable checks the hand-written ISO 3166-1 table against CLDR's
// region data in golang.org/x/text: every code must be a CLDR country with
// the same alpha-3, and the CLDR countries we leave out must be exactly the
// ones ISO does not (or no longer) assign.
func TestCountryTable(t *testing.T) {
	t.Parallel()
	if len(alpha2To3) != 249 {
		t.Errorf("table has %d codes, ISO 3166-1 assigns 249", len(alpha2To3))
	}
	for a2, a3 := range alpha2To3 {
		r, err := language.ParseRegion(a2)
		if err != nil || !r.IsCountry() || !strings.EqualFold(r.String(), a2) {
			t.Errorf("%s: not a country in CLDR (%v)", a2, err)
			continue
		}
		if got := strings.ToLower(r.ISO3()); got != a3 {
			t.Errorf("%s: alpha-3 %s, CLDR says %s", a2, a3, got)
		}
	}
	// Exceptionally reserved, transitionally reserved, withdrawn or
	// user-assigned codes that CLDR still knows as regions.
	notISO := []string{"ac", "an", "bu", "cp", "cq", "cs", "ct", "dd", "dg", "dy", "ea", "ez", "fq", "fx",
		"hv", "ic", "jt", "mi", "nh", "nq", "nt", "pc", "pu", "pz", "rh", "su", "ta", "tp", "uk", "un",
		"vd", "wk", "xk", "yd", "yu", "zr"}
	var leftOut []string
	for a := 'a'; a <= 'z'; a++ {
		for b := 'a'; b <= 'z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || !strings.EqualFold(r.String(), code) {
				continue
			}
			if _, ok := alpha2To3[code]; !ok {
				leftOut = append(leftOut, code)
			}
		}
	}
	if !slices.Equal(leftOut, notISO) {
		t.Errorf("CLDR countries missing from the table = %v, want exactly %v", leftOut, notISO)
	}
	for name, a2 := range countryNames {
		if _, ok := alpha2To3[a2]; !ok {
			t.Errorf("countryNames[%q] = %q, not an assigned code", name, a2)
		}
	}
}

// TestPhoneFastPathMatchesPhonenumbers checks that the '+' fast path gives
// the same digits as the full phonenumbers parse it skips.
func TestPhoneFastPathMatchesPhonenumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"US", "+1 (650) 555-1212", "16505551212"},
		{"UK London", "+44 20 7946 0958", "442079460958"},
		{"UK with trunk zero", "+44 (0)20 7946 0958", "442079460958"},
		{"Germany", "+49 30 1234567", "49301234567"},
		{"Italy leading zero", "+39 06 6982 1234", "390669821234"},
		{"France dots", "+33 1.23.45.67.89", "33123456789"},
		{"Singapore", "+65 6123 4567", "6561234567"},
		{"Brazil mobile", "+55 11 91234-5678", "5511912345678"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			digits, plain := internationalDigits(strings.TrimPrefix(tt.in, "+"))
			if !plain {
				t.Fatalf("%q did not take the fast path", tt.in)
			}
			fast, ferr := checkInternational(digits)
			slow, serr := parsePhone(tt.in, "")
			if ferr != nil || serr != nil {
				t.Fatalf("fast err %v, slow err %v", ferr, serr)
			}
			if fast != tt.want || slow != tt.want {
				t.Errorf("fast = %s, phonenumbers = %s, want %s", fast, slow, tt.want)
			}
		})
	}
}

// TestMetaRulesComplete checks that Meta's table covers every canonical
// field, street included (the CLI and later platforms rely on it). Other
// platforms may leave a field nil on purpose; Normalize then reports
// unsupported_field.
func TestMetaRulesComplete(t *testing.T) {
	t.Parallel()
	for _, f := range allFields {
		if metaRules.rule(f) == nil {
			t.Errorf("meta: no rule for %s", f)
		}
	}
}
