package pii_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/signalpipe/signalpipe/internal/pii"
)

// FuzzHash checks, for arbitrary input to every field: no panic; either an
// *Error or a non-empty normalized value with a 64-character lowercase hex
// hash; and idempotence — hashing the hash returns the hash unchanged.
func FuzzHash(f *testing.F) {
	seeds := []string{
		"John_Smith@gmail.com", "(650)555-1212", "+44 (0)20 7946 0958", "0044 20 7946 0958",
		"+1 650 555 1212 ext. 42", "Valéry", "정", "Female", "02/14/1990", "1990-02-14T00:00:00Z",
		"Menlo Park", "New York", "94025-1234", "U.S.A.", "CRM-00042",
		"62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F",
		"", " ", "\xff", "+", "00", "++1", "(0)", "1990-02-14T",
	}
	regions := []string{"", "US", "GB", "zz"}
	for i, s := range seeds {
		f.Add(uint8(i), uint8(i), s)
	}
	fields := pii.Fields()
	f.Fuzz(func(t *testing.T, fieldIdx, regionIdx uint8, raw string) {
		field := fields[int(fieldIdx)%len(fields)]
		opts := pii.Options{DefaultRegion: regions[int(regionIdx)%len(regions)], Now: testNow}
		norm, hash, err := pii.Hash(pii.Meta, field, raw, opts)
		if err != nil {
			var pe *pii.Error
			if !errors.As(err, &pe) || pe.Field != field || pe.Reason == "" {
				t.Fatalf("Hash(%s, %q) error %v is not a *pii.Error for the field", field, raw, err)
			}
			if norm != "" || hash != "" {
				t.Fatalf("Hash(%s, %q) returned (%q, %q) with an error", field, raw, norm, hash)
			}
			return
		}
		if !isLowerHex64(hash) {
			t.Fatalf("Hash(%s, %q) hash = %q, want 64 lowercase hex", field, raw, hash)
		}
		if norm == "" || !utf8.ValidString(norm) {
			t.Fatalf("Hash(%s, %q) normalized = %q, want non-empty UTF-8", field, raw, norm)
		}
		if norm != hash && pii.SHA256Hex(norm) != hash {
			t.Fatalf("Hash(%s, %q) hash is not SHA-256 of %q", field, raw, norm)
		}
		norm2, hash2, err := pii.Hash(pii.Meta, field, hash, opts)
		if err != nil || norm2 != hash || hash2 != hash {
			t.Fatalf("Hash of hash %s = (%q, %q, %v), want it unchanged", hash, norm2, hash2, err)
		}
	})
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
