package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file holds the platform-neutral text rules that rule tables are built
// from. Each takes a trimmed, non-empty, valid UTF-8 value.

// asGiven keeps the (already trimmed) value unchanged, for identifiers that
// must stay byte-identical to what another channel sends.
func asGiven(s string, _ Options) (string, *Error) { return s, nil }

// letters lowercases and keeps only letters (any script), for names, cities
// and states: "Valéry" → "valéry", "O'Brien" → "obrien", "New York" →
// "newyork".
func letters(s string, _ Options) (string, *Error) { return foldLetters(s), nil }

// foldLetters lowercases s, drops everything that is not a letter or a
// combining mark (spaces, digits, punctuation, symbols) and returns NFC text,
// so that "é" typed as one code point or as "e" plus a combining accent hashes
// the same. ASCII input, the common case, takes a loop without allocation
// when nothing needs removing.
func foldLetters(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return foldLettersUnicode(s)
		}
		if c < 'a' || c > 'z' {
			clean = false
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			b.WriteByte(c)
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	return b.String()
}

func foldLettersUnicode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsMark(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return norm.NFC.String(b.String())
}

// emailLower lowercases an address and checks that it looks like one.
func emailLower(s string, _ Options) (string, *Error) {
	s = strings.ToLower(s)
	if !looksLikeEmail(s) {
		return "", &Error{Reason: ReasonInvalidEmail, detail: "expected local-part@domain.tld"}
	}
	return s, nil
}

// looksLikeEmail is a deliberately simple shape check, in the spirit of the
// regular expression in Meta's SDK but accepting internationalised letters:
// one '@', a local part without spaces or specials, and a domain of at least
// two dot-separated labels made of letters, digits and inner hyphens. It
// rejects what is clearly not an address; deliverability is not its concern.
func looksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for _, r := range s[:at] {
		if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`"(),:;<>[\]`, r) {
			return false
		}
	}
	domain := s[at+1:]
	labels := 0
	for domain != "" {
		var label string
		label, domain, _ = strings.Cut(domain, ".")
		if !validDomainLabel(label) {
			return false
		}
		labels++
	}
	return labels >= 2 && s[len(s)-1] != '.'
}

func validDomainLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			return false
		}
	}
	return true
}

// genderMF maps m/male and f/female, in any case, to "m" and "f".
func genderMF(s string, _ Options) (string, *Error) {
	switch {
	case strings.EqualFold(s, "m"), strings.EqualFold(s, "male"):
		return "m", nil
	case strings.EqualFold(s, "f"), strings.EqualFold(s, "female"):
		return "f", nil
	}
	return "", &Error{Reason: ReasonInvalidGender, detail: "expected m, f, male or female"}
}

// zipBeforeDash lowercases, removes all whitespace and keeps the part before
// the first '-': US ZIP+4 "94025-1234" → "94025", UK "SW1A 1AA" → "sw1a1aa".
// This is the Meta SDK's rule.
func zipBeforeDash(s string, _ Options) (string, *Error) {
	s, _, _ = strings.Cut(s, "-")
	s = strings.ToLower(s)
	if strings.IndexFunc(s, unicode.IsSpace) < 0 {
		return s, nil
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s), nil
}

// streetLower lowercases and collapses runs of whitespace to one space,
// keeping punctuation and digits ("12 Main St., Apt 4" → "12 main st., apt 4").
func streetLower(s string, _ Options) (string, *Error) {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	return norm.NFC.String(s), nil
}
