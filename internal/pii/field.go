package pii

import (
	"fmt"
	"strings"
)

// Field names one canonical kind of personal data. Destinations map it to
// their own key (Meta "em", Google "hashed_email", …).
type Field string

// The canonical fields, in the order Fields returns them.
const (
	Email       Field = "email"
	Phone       Field = "phone"
	FirstName   Field = "first_name"
	LastName    Field = "last_name"
	Gender      Field = "gender"
	DateOfBirth Field = "date_of_birth"
	City        Field = "city"
	State       Field = "state"
	Zip         Field = "zip"
	Country     Field = "country"
	ExternalID  Field = "external_id"
	Street      Field = "street"
)

// allFields is the canonical order; Fields hands out copies so callers cannot
// reorder it for everyone else.
var allFields = [...]Field{
	Email, Phone, FirstName, LastName, Gender, DateOfBirth,
	City, State, Zip, Country, ExternalID, Street,
}

// Fields returns all canonical fields in declaration order. The slice is a
// fresh copy on every call.
func Fields() []Field {
	out := make([]Field, len(allFields))
	copy(out, allFields[:])
	return out
}

// ParseField returns the Field named s (surrounding space and letter case are
// ignored). An unknown name yields an *Error with Reason "unknown_field" whose
// message lists the valid names.
func ParseField(s string) (Field, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, f := range allFields {
		if string(f) == name {
			return f, nil
		}
	}
	return "", &Error{Field: Field(name), Reason: ReasonUnknownField, detail: "valid fields: " + joinFields()}
}

func joinFields() string {
	names := make([]string, len(allFields))
	for i, f := range allFields {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Platform names an ad platform whose normalization rules this package knows.
type Platform string

// Meta is Meta's Conversions API (Facebook, Instagram).
const Meta Platform = "meta"

// platforms lists every supported platform with its rule table, in the order
// Platforms returns them. A new platform is one more line here plus its table.
var platforms = [...]struct {
	platform Platform
	rules    *ruleSet
}{
	{Meta, &metaRules},
	{LinkedIn, &linkedinRules},
	{Reddit, &redditRules},
	{Microsoft, &microsoftRules},
}

// Platforms returns the supported platforms. The slice is a fresh copy on
// every call.
func Platforms() []Platform {
	out := make([]Platform, len(platforms))
	for i, p := range platforms {
		out[i] = p.platform
	}
	return out
}

// ParsePlatform returns the Platform named s (surrounding space and letter
// case are ignored). The error for an unknown name lists the supported ones.
func ParsePlatform(s string) (Platform, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if _, ok := rulesFor(Platform(name)); ok {
		return Platform(name), nil
	}
	return "", fmt.Errorf("unknown platform %q: supported platforms are %s", name, joinPlatforms())
}

func joinPlatforms() string {
	names := make([]string, len(platforms))
	for i, p := range platforms {
		names[i] = string(p.platform)
	}
	return strings.Join(names, ", ")
}

func rulesFor(p Platform) (*ruleSet, bool) {
	for i := range platforms {
		if platforms[i].platform == p {
			return platforms[i].rules, true
		}
	}
	return nil, false
}
