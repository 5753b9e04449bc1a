package schema

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// A screen is the fast path for the common case, a record that is valid.
//
// The library validates by building a validator, a scope and an
// "unevaluated" record for every schema node it visits: about 240
// allocations and 12 µs for a typical web purchase, most of the per-event
// budget. A screen walks the same compiled schema (the library's own
// *jsonschema.Schema, so $ref resolution, drafts, formats and patterns are
// the library's) without allocating, and answers only "certainly valid" or
// "not certain". Validate returns at once on the first answer and hands every
// other record to the library, which gives the verdict and the error.
//
// The one property a screen must have is soundness: it never accepts a record
// the library rejects. It is built so: a keyword it does not evaluate exactly
// makes its node "not certain", numbers are compared so that rounding can
// only make it less certain, and a test fails when the library's Schema
// grows a field the screen does not know. FuzzScreenSound and
// TestScreenSoundOnMutations check the property against the library itself.
type screen struct {
	// unsupported: the node uses a keyword the screen does not evaluate.
	unsupported bool
	// bool schema: never (false) or always (true).
	never, always bool

	types  uint8 // screenType bits; 0 = any type
	consts []any // const (one value) or enum values; nil = no such keyword
	format func(any) error
	ref    *screen
	allOf  []*screen
	anyOf  []*screen

	// object
	minProps, maxProps int // -1 = no bound
	required           []string
	props              map[string]*screen
	patternProps       []patternScreen
	noAdditional       bool
	additional         *screen

	// array
	minItems, maxItems int
	prefixItems        []*screen
	items              *screen

	// string
	minLength, maxLength int
	pattern              jsonschema.Regexp

	// number
	minimum, maximum, exclusiveMinimum, exclusiveMaximum *bound
}

type patternScreen struct {
	re jsonschema.Regexp
	s  *screen
}

// bound is a numeric limit as the float64 nearest to it.
type bound struct {
	f     float64
	exact bool // f is the limit itself, not a rounding of it
}

// The JSON types, as bits.
const (
	tNull uint8 = 1 << iota
	tBoolean
	tNumber
	tInteger
	tString
	tArray
	tObject
)

var typeBits = map[string]uint8{
	"null": tNull, "boolean": tBoolean, "number": tNumber, "integer": tInteger,
	"string": tString, "array": tArray, "object": tObject,
}

// maxScreenDepth bounds how many schema nodes deep a screen goes; past it
// (a $ref cycle that does not descend into the instance, or an absurdly
// nested record) it is not certain, and the library decides.
const maxScreenDepth = 128

// newScreen builds the screen for a compiled schema.
func newScreen(s *jsonschema.Schema) *screen {
	return buildScreen(s, make(map[*jsonschema.Schema]*screen))
}

func buildScreen(s *jsonschema.Schema, seen map[*jsonschema.Schema]*screen) *screen {
	if s == nil {
		return nil
	}
	if n, ok := seen[s]; ok {
		return n
	}
	n := &screen{minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLength: -1, maxLength: -1}
	seen[s] = n
	if s.Bool != nil {
		n.always, n.never = *s.Bool, !*s.Bool
		return n
	}
	// Keywords the screen does not evaluate. Draft 2019-09 and older
	// differ in $ref and items semantics; only 2020-12 is screened.
	if s.DraftVersion < 2020 ||
		s.RecursiveRef != nil || s.DynamicRef != nil ||
		s.Not != nil || len(s.OneOf) > 0 || s.If != nil || s.Then != nil || s.Else != nil ||
		s.PropertyNames != nil || len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 ||
		len(s.DependentSchemas) > 0 || s.UnevaluatedProperties != nil ||
		s.UniqueItems || s.Contains != nil || s.MinContains != nil || s.MaxContains != nil ||
		s.Items != nil || s.AdditionalItems != nil || s.UnevaluatedItems != nil ||
		s.ContentEncoding != nil || s.ContentMediaType != nil || s.ContentSchema != nil ||
		s.MultipleOf != nil || len(s.Extensions) > 0 ||
		(s.Format != nil && s.Format.Name == "regex") {
		n.unsupported = true
		return n
	}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			n.types |= typeBits[t]
		}
	}
	if s.Const != nil {
		n.consts = []any{*s.Const}
	}
	if s.Enum != nil {
		if n.consts != nil {
			n.unsupported = true // both: rare enough not to screen
			return n
		}
		n.consts = s.Enum.Values
		if n.consts == nil {
			n.consts = []any{}
		}
	}
	if s.Format != nil {
		n.format = s.Format.Validate
	}
	n.ref = buildScreen(s.Ref, seen)
	for _, sub := range s.AllOf {
		n.allOf = append(n.allOf, buildScreen(sub, seen))
	}
	for _, sub := range s.AnyOf {
		n.anyOf = append(n.anyOf, buildScreen(sub, seen))
	}

	n.minProps, n.maxProps = intOr(s.MinProperties), intOr(s.MaxProperties)
	n.required = s.Required
	if len(s.Properties) > 0 {
		n.props = make(map[string]*screen, len(s.Properties))
		for name, sub := range s.Properties {
			n.props[name] = buildScreen(sub, seen)
		}
	}
	for re, sub := range s.PatternProperties {
		n.patternProps = append(n.patternProps, patternScreen{re: re, s: buildScreen(sub, seen)})
	}
	switch a := s.AdditionalProperties.(type) {
	case bool:
		n.noAdditional = !a
	case *jsonschema.Schema:
		n.additional = buildScreen(a, seen)
	}

	n.minItems, n.maxItems = intOr(s.MinItems), intOr(s.MaxItems)
	for _, sub := range s.PrefixItems {
		n.prefixItems = append(n.prefixItems, buildScreen(sub, seen))
	}
	n.items = buildScreen(s.Items2020, seen)

	n.minLength, n.maxLength = intOr(s.MinLength), intOr(s.MaxLength)
	n.pattern = s.Pattern

	n.minimum, n.maximum = boundOf(s.Minimum), boundOf(s.Maximum)
	n.exclusiveMinimum, n.exclusiveMaximum = boundOf(s.ExclusiveMinimum), boundOf(s.ExclusiveMaximum)
	return n
}

func intOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func boundOf(r *big.Rat) *bound {
	if r == nil {
		return nil
	}
	f, exact := r.Float64()
	return &bound{f: f, exact: exact}
}

// accepts reports whether v is certainly valid against the screen's schema.
// false means only "not certain".
func (n *screen) accepts(v any) bool {
	return n.check(v, 0)
}

func (n *screen) check(v any, depth int) bool {
	if n == nil {
		return true
	}
	if n.unsupported || n.never || depth > maxScreenDepth {
		return false
	}
	if n.always {
		return true
	}
	var num numberValue
	t := typeOfValue(v, &num)
	if t == 0 {
		return false
	}
	if n.types != 0 && n.types&t == 0 {
		// An integral number satisfies "integer".
		if t != tNumber || n.types&tInteger == 0 || !num.integer {
			return false
		}
	}
	if n.consts != nil && !inConsts(v, n.consts) {
		return false
	}
	if n.format != nil && n.format(v) != nil {
		return false
	}
	if n.ref != nil && !n.ref.check(v, depth+1) {
		return false
	}
	for _, sub := range n.allOf {
		if !sub.check(v, depth+1) {
			return false
		}
	}
	if len(n.anyOf) > 0 {
		matched := false
		for _, sub := range n.anyOf {
			if sub.check(v, depth+1) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	switch t {
	case tObject:
		return n.checkObject(v.(map[string]any), depth)
	case tArray:
		return n.checkArray(v.([]any), depth)
	case tString:
		return n.checkString(v.(string))
	case tNumber:
		return n.checkNumber(num)
	}
	return true
}

func (n *screen) checkObject(obj map[string]any, depth int) bool {
	if n.minProps >= 0 && len(obj) < n.minProps {
		return false
	}
	if n.maxProps >= 0 && len(obj) > n.maxProps {
		return false
	}
	for _, name := range n.required {
		if _, ok := obj[name]; !ok {
			return false
		}
	}
	if n.props == nil && n.patternProps == nil && !n.noAdditional && n.additional == nil {
		return true
	}
	for name, value := range obj {
		evaluated := false
		if sub, ok := n.props[name]; ok {
			evaluated = true
			if !sub.check(value, depth+1) {
				return false
			}
		}
		for _, p := range n.patternProps {
			if p.re.MatchString(name) {
				evaluated = true
				if !p.s.check(value, depth+1) {
					return false
				}
			}
		}
		if !evaluated {
			if n.noAdditional {
				return false
			}
			if n.additional != nil && !n.additional.check(value, depth+1) {
				return false
			}
		}
	}
	return true
}

func (n *screen) checkArray(arr []any, depth int) bool {
	if n.minItems >= 0 && len(arr) < n.minItems {
		return false
	}
	if n.maxItems >= 0 && len(arr) > n.maxItems {
		return false
	}
	for i, item := range arr {
		sub := n.items
		if i < len(n.prefixItems) {
			sub = n.prefixItems[i]
		}
		if sub != nil && !sub.check(item, depth+1) {
			return false
		}
	}
	return true
}

func (n *screen) checkString(s string) bool {
	// A string has at most as many runes as bytes: count only when the
	// byte length cannot settle it.
	if n.maxLength >= 0 && len(s) > n.maxLength && utf8.RuneCountInString(s) > n.maxLength {
		return false
	}
	if n.minLength > 0 && (len(s) < n.minLength || utf8.RuneCountInString(s) < n.minLength) {
		return false
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		return false
	}
	return true
}

// numberValue is an instance number as the float64 nearest to it.
type numberValue struct {
	f       float64
	exact   bool // f is the number itself
	integer bool // the number is certainly an integer
	ok      bool // f was obtained
}

// checkNumber compares num with the bounds so that rounding can only make
// the screen uncertain. Rounding to the nearest float64 is monotonic, so
// round(x) > round(b) implies x > b; equal roundings prove something only
// when both sides are exact.
func (n *screen) checkNumber(num numberValue) bool {
	if n.minimum == nil && n.maximum == nil && n.exclusiveMinimum == nil && n.exclusiveMaximum == nil {
		return true
	}
	if !num.ok {
		return false
	}
	if b := n.minimum; b != nil && !(num.f > b.f || (num.f == b.f && num.exact && b.exact)) {
		return false
	}
	if b := n.maximum; b != nil && !(num.f < b.f || (num.f == b.f && num.exact && b.exact)) {
		return false
	}
	if b := n.exclusiveMinimum; b != nil && !(num.f > b.f) {
		return false
	}
	if b := n.exclusiveMaximum; b != nil && !(num.f < b.f) {
		return false
	}
	return true
}

// typeOfValue classifies v as the library does, filling num for numbers. It
// returns 0 for a value the library would call invalid JSON.
func typeOfValue(v any, num *numberValue) uint8 {
	switch v := v.(type) {
	case nil:
		return tNull
	case bool:
		return tBoolean
	case string:
		return tString
	case map[string]any:
		return tObject
	case []any:
		return tArray
	case json.Number:
		*num = parseNumber(string(v))
		return tNumber
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		// The library reads a float64 back from its shortest decimal form;
		// below 2^53 an integral float64 is exactly that integer.
		integral := v == math.Trunc(v) && math.Abs(v) < 1<<53
		*num = numberValue{f: v, exact: integral, integer: integral, ok: true}
		return tNumber
	}
	return 0
}

// parseNumber reads a JSON number literal. A plain integer of at most 15
// digits is exactly representable; anything else is the nearest float64.
func parseNumber(s string) numberValue {
	digits, plain := 0, len(s) > 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' && i == 0:
		default:
			plain = false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return numberValue{integer: plain && digits > 0}
	}
	exact := plain && digits > 0 && digits <= 15
	return numberValue{f: f, exact: exact, integer: plain && digits > 0, ok: true}
}

// inConsts reports whether v equals one of values. Only strings, booleans
// and null are compared here; a number, array or object is never certain.
func inConsts(v any, values []any) bool {
	switch v := v.(type) {
	case string:
		for _, c := range values {
			if s, ok := c.(string); ok && s == v {
				return true
			}
		}
	case bool:
		for _, c := range values {
			if b, ok := c.(bool); ok && b == v {
				return true
			}
		}
	case nil:
		for _, c := range values {
			if c == nil {
				return true
			}
		}
	}
	return false
}
