package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// leaf is one most-specific failure found in the library's error tree.
type leaf struct {
	path, msg string
}

// flatten reduces the library's nested error to its most specific cause.
// The tree wraps leaves in Schema, Group, Reference and AllOf nodes; those
// are descended. anyOf/oneOf failures are leaves themselves: their branches'
// errors describe alternatives, not what is wrong. Among several leaves the
// one with the smallest path wins, so the same record always reports the same
// cause (the library builds the tree while ranging over maps).
func (v *Validator) flatten(root *jsonschema.ValidationError) (string, string) {
	var best leaf
	found := false
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
			if len(e.Causes) > 0 {
				for _, c := range e.Causes {
					walk(c)
				}
				return
			}
		}
		l := v.describe(e)
		if !found || l.path < best.path || (l.path == best.path && l.msg < best.msg) {
			best, found = l, true
		}
	}
	walk(root)
	if !found {
		return "", "validation failed"
	}
	return best.path, best.msg
}

// describe renders one failure without the offending value.
func (v *Validator) describe(e *jsonschema.ValidationError) leaf {
	p := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return leaf{p + "/" + escapeToken(k.Missing[0]), "required: missing property " + strconv.Quote(k.Missing[0])}
	case *kind.AdditionalProperties:
		// Property names are the producer's and, rarely, could be data: name
		// one only when it looks like an identifier.
		if len(k.Properties) > 0 && identifierLike(k.Properties[0]) {
			return leaf{p + "/" + escapeToken(k.Properties[0]), "additionalProperties: property not allowed"}
		}
		return leaf{p, "additionalProperties: unknown property not allowed"}
	case *kind.Type:
		return leaf{p, "type: got " + k.Got + ", want " + strings.Join(k.Want, " or ")}
	case *kind.Enum:
		return leaf{p, "enum: want one of " + listValues(k.Want)}
	case *kind.Const:
		return leaf{p, "const: want " + listValues([]any{k.Want})}
	case *kind.Format:
		return leaf{p, "format: not a valid " + k.Want}
	case *kind.MinLength:
		return leaf{p, fmt.Sprintf("minLength: want at least %d characters", k.Want)}
	case *kind.MaxLength:
		return leaf{p, fmt.Sprintf("maxLength: %d characters, want at most %d", k.Got, k.Want)}
	case *kind.Pattern:
		return leaf{p, "pattern: does not match " + strconv.Quote(k.Want)}
	case *kind.Minimum:
		return leaf{p, "minimum: want >= " + ratString(k.Want.FloatString(6))}
	case *kind.Maximum:
		return leaf{p, "maximum: want <= " + ratString(k.Want.FloatString(6))}
	case *kind.ExclusiveMinimum:
		return leaf{p, "exclusiveMinimum: want > " + ratString(k.Want.FloatString(6))}
	case *kind.ExclusiveMaximum:
		return leaf{p, "exclusiveMaximum: want < " + ratString(k.Want.FloatString(6))}
	case *kind.MultipleOf:
		return leaf{p, "multipleOf: want a multiple of " + ratString(k.Want.FloatString(6))}
	case *kind.MinItems:
		return leaf{p, fmt.Sprintf("minItems: %d items, want at least %d", k.Got, k.Want)}
	case *kind.MaxItems:
		return leaf{p, fmt.Sprintf("maxItems: %d items, want at most %d", k.Got, k.Want)}
	case *kind.MinProperties:
		return leaf{p, fmt.Sprintf("minProperties: %d properties, want at least %d", k.Got, k.Want)}
	case *kind.MaxProperties:
		return leaf{p, fmt.Sprintf("maxProperties: %d properties, want at most %d", k.Got, k.Want)}
	case *kind.UniqueItems:
		return leaf{p, fmt.Sprintf("uniqueItems: items %d and %d are equal", k.Duplicates[0], k.Duplicates[1])}
	case *kind.AnyOf:
		if m, ok := v.messages[e.SchemaURL]; ok {
			return leaf{p, "anyOf: " + m}
		}
		return leaf{p, "anyOf: matches none of the alternatives"}
	case *kind.OneOf:
		if m, ok := v.messages[e.SchemaURL]; ok {
			return leaf{p, "oneOf: " + m}
		}
		if len(k.Subschemas) > 1 {
			return leaf{p, "oneOf: matches more than one alternative"}
		}
		return leaf{p, "oneOf: matches none of the alternatives"}
	case *kind.Not:
		return leaf{p, "not: must not match"}
	case *kind.FalseSchema:
		return leaf{p, "not allowed"}
	}
	if kw := e.ErrorKind.KeywordPath(); len(kw) > 0 {
		return leaf{p, kw[0] + ": failed"}
	}
	return leaf{p, "validation failed"}
}

// pointer renders instance location tokens as a JSON pointer.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// escapeToken escapes one JSON pointer token (RFC 6901).
func escapeToken(t string) string {
	if !strings.ContainsAny(t, "~/") {
		return t
	}
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

// identifierLike reports whether a property name is short and made of
// identifier characters, so it is safe to echo.
func identifierLike(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '$') {
			return false
		}
	}
	return true
}

// listValues renders schema-defined values (never instance values).
func listValues(vals []any) string {
	parts := make([]string, 0, len(vals))
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			parts = append(parts, strconv.Quote(v))
		case json.Number:
			parts = append(parts, v.String())
		case nil:
			parts = append(parts, "null")
		case bool, float64, int:
			parts = append(parts, fmt.Sprint(v))
		default:
			parts = append(parts, "(object)")
		}
	}
	return strings.Join(parts, ", ")
}

// ratString trims a fixed-point rendering: "0.000000" → "0", "1.500000" → "1.5".
func ratString(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number, float64, float32, int, int64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
