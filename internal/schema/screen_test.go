package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/signalpipe/signalpipe/schemas"
)

// screenFields sorts every exported field of the library's compiled Schema:
// evaluated by the screen, making a node unsupported, or an annotation with
// no effect on validation. A library upgrade that adds a keyword fails
// TestScreenKnowsEverySchemaField until the screen handles it, because a
// screen that ignored a new assertion would accept records the library
// rejects.
var screenFields = map[string]string{
	// evaluated
	"Bool": "evaluated", "Ref": "evaluated", "Types": "evaluated", "Enum": "evaluated",
	"Const": "evaluated", "AllOf": "evaluated", "AnyOf": "evaluated", "Format": "evaluated",
	"MaxProperties": "evaluated", "MinProperties": "evaluated", "Required": "evaluated",
	"Properties": "evaluated", "PatternProperties": "evaluated", "AdditionalProperties": "evaluated",
	"MinItems": "evaluated", "MaxItems": "evaluated", "PrefixItems": "evaluated", "Items2020": "evaluated",
	"MinLength": "evaluated", "MaxLength": "evaluated", "Pattern": "evaluated",
	"Maximum": "evaluated", "Minimum": "evaluated", "ExclusiveMaximum": "evaluated", "ExclusiveMinimum": "evaluated",
	"DraftVersion": "evaluated",
	// unsupported: the node is never certain
	"RecursiveRef": "unsupported", "DynamicRef": "unsupported", "Not": "unsupported",
	"OneOf": "unsupported", "If": "unsupported", "Then": "unsupported", "Else": "unsupported",
	"PropertyNames": "unsupported", "Dependencies": "unsupported", "DependentRequired": "unsupported",
	"DependentSchemas": "unsupported", "UnevaluatedProperties": "unsupported",
	"UniqueItems": "unsupported", "Contains": "unsupported", "MinContains": "unsupported",
	"MaxContains": "unsupported", "Items": "unsupported", "AdditionalItems": "unsupported",
	"UnevaluatedItems": "unsupported", "ContentEncoding": "unsupported",
	"ContentMediaType": "unsupported", "ContentSchema": "unsupported",
	"MultipleOf": "unsupported", "Extensions": "unsupported",
	// annotations and identifiers
	"Location": "annotation", "ID": "annotation", "Anchor": "annotation",
	"RecursiveAnchor": "annotation", "DynamicAnchor": "annotation", "Title": "annotation",
	"Description": "annotation", "Default": "annotation", "Comment": "annotation",
	"ReadOnly": "annotation", "WriteOnly": "annotation", "Examples": "annotation",
	"Deprecated": "annotation",
}

func TestScreenKnowsEverySchemaField(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[jsonschema.Schema]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		if _, ok := screenFields[f.Name]; !ok {
			t.Errorf("jsonschema.Schema has field %s, which screen.go does not handle: evaluate it or mark the node unsupported", f.Name)
		}
	}
}

// compile compiles one schema with the compiler New uses.
func compile(t testing.TB, src string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
	if err != nil {
		t.Fatalf("schema %s: %v", src, err)
	}
	c := newCompiler()
	if err := c.AddResource("mem:///s.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///s.json")
	if err != nil {
		t.Fatalf("compiling %s: %v", src, err)
	}
	return s
}

func TestScreenKeywords(t *testing.T) {
	t.Parallel()
	// screen is whether the screen is certain; the library's verdict is
	// computed, and a screen that accepts what the library rejects fails.
	cases := []struct {
		schema, instance string
		screen           bool
	}{
		{`true`, `1`, true},
		{`false`, `1`, false},
		{`{"type":"string"}`, `"a"`, true},
		{`{"type":"string"}`, `1`, false},
		{`{"type":["string","null"]}`, `null`, true},
		{`{"type":"integer"}`, `7`, true},
		{`{"type":"integer"}`, `-7`, true},
		{`{"type":"integer"}`, `7.5`, false},
		{`{"type":"integer"}`, `7.0`, false}, // valid, but the screen is not certain
		{`{"type":"number"}`, `7.5`, true},
		{`{"const":"web"}`, `"web"`, true},
		{`{"const":"web"}`, `"app"`, false},
		{`{"const":1}`, `1`, false}, // numbers are left to the library
		{`{"enum":["granted","denied"]}`, `"denied"`, true},
		{`{"enum":["granted","denied"]}`, `"maybe"`, false},
		{`{"enum":[true,null]}`, `null`, true},
		{`{"format":"date-time"}`, `"2025-03-14T15:09:26Z"`, true},
		{`{"format":"date-time"}`, `"2025-02-30T15:09:26Z"`, false},
		{`{"format":"date-time"}`, `"yesterday"`, false},
		{`{"maxLength":3}`, `"abc"`, true},
		{`{"maxLength":3}`, `"abcd"`, false},
		{`{"maxLength":3}`, `"äöü"`, true}, // 3 runes in 6 bytes
		{`{"maxLength":3}`, `"äöüß"`, false},
		{`{"minLength":2}`, `"ä"`, false}, // 2 bytes, 1 rune
		{`{"minLength":2}`, `"äö"`, true},
		{`{"pattern":"^[A-Za-z]{3}$"}`, `"usd"`, true},
		{`{"pattern":"^[A-Za-z]{3}$"}`, `"usd1"`, false},
		{`{"minimum":0}`, `0`, true},
		{`{"minimum":0}`, `-0.0000001`, false},
		{`{"minimum":1}`, `1`, true},
		{`{"minimum":0.1}`, `0.1`, false}, // equal, but inexact: not certain
		{`{"minimum":0.1}`, `0.2`, true},
		{`{"maximum":1000000}`, `1000000`, true},
		{`{"maximum":1000000}`, `1000001`, false},
		{`{"maximum":1}`, `1.0000000000000000001`, false}, // rounds to 1: not certain
		{`{"exclusiveMinimum":0}`, `0`, false},
		{`{"exclusiveMinimum":0}`, `1e-300`, true},
		{`{"exclusiveMaximum":10}`, `9.99`, true},
		{`{"minimum":0}`, `1e400`, false}, // beyond float64: the library decides
		{`{"required":["a"]}`, `{"a":1}`, true},
		{`{"required":["a"]}`, `{"b":1}`, false},
		{`{"maxProperties":1}`, `{"a":1,"b":2}`, false},
		{`{"minProperties":1}`, `{}`, false},
		{`{"properties":{"a":{"type":"string"}},"additionalProperties":false}`, `{"a":"x"}`, true},
		{`{"properties":{"a":{"type":"string"}},"additionalProperties":false}`, `{"a":"x","b":1}`, false},
		{`{"properties":{"a":{"type":"string"}}}`, `{"a":1}`, false},
		{`{"additionalProperties":{"type":"boolean"}}`, `{"x":true}`, true},
		{`{"additionalProperties":{"type":"boolean"}}`, `{"x":"yes"}`, false},
		{`{"patternProperties":{"^x_":{"type":"integer"}},"additionalProperties":false}`, `{"x_a":1}`, true},
		{`{"patternProperties":{"^x_":{"type":"integer"}},"additionalProperties":false}`, `{"x_a":"1"}`, false},
		{`{"maxItems":2,"items":{"type":"string"}}`, `["a","b"]`, true},
		{`{"maxItems":2,"items":{"type":"string"}}`, `["a","b","c"]`, false},
		{`{"items":{"type":"string"}}`, `["a",1]`, false},
		{`{"minItems":1}`, `[]`, false},
		{`{"prefixItems":[{"type":"integer"}],"items":{"type":"string"}}`, `[1,"a"]`, true},
		{`{"prefixItems":[{"type":"integer"}],"items":{"type":"string"}}`, `["a","a"]`, false},
		{`{"anyOf":[{"required":["a"]},{"required":["b"]}]}`, `{"b":1}`, true},
		{`{"anyOf":[{"required":["a"]},{"required":["b"]}]}`, `{"c":1}`, false},
		{`{"allOf":[{"required":["a"]},{"required":["b"]}]}`, `{"a":1,"b":1}`, true},
		{`{"allOf":[{"required":["a"]},{"required":["b"]}]}`, `{"a":1}`, false},
		{`{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":1}`, `"a"`, true},
		{`{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":1}`, `"ab"`, false},
		{`{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s"}`, `1`, false},
		// A $ref to itself never descends: the depth bound ends it.
		{`{"$ref":"#"}`, `1`, false},
		// Recursive schemas that descend are screened.
		{`{"type":"object","properties":{"next":{"$ref":"#"}}}`, `{"next":{"next":{}}}`, true},
		// Keywords the screen does not evaluate: never certain, even when valid.
		{`{"not":{"type":"string"}}`, `1`, false},
		{`{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `1`, false},
		{`{"if":{"type":"string"},"then":{"minLength":1}}`, `1`, false},
		{`{"uniqueItems":true}`, `[1,2]`, false},
		{`{"multipleOf":2}`, `4`, false},
		{`{"unevaluatedProperties":false}`, `{}`, false},
		{`{"properties":{"a":{"not":{}}}}`, `{"b":1}`, true}, // the unsupported node is not reached
		{`{"properties":{"a":{"not":{"type":"string"}}}}`, `{"a":1}`, false},
	}
	for _, c := range cases {
		t.Run(c.schema+" "+c.instance, func(t *testing.T) {
			s := compile(t, c.schema)
			doc := parse(t, c.instance)
			libraryOK := s.Validate(doc) == nil
			got := newScreen(s).accepts(doc)
			if got && !libraryOK {
				t.Fatalf("screen accepts %s, which the library rejects", c.instance)
			}
			if got != c.screen {
				t.Errorf("screen certain = %v, want %v (library valid = %v)", got, c.screen, libraryOK)
			}
		})
	}
}

// examples returns every example record, parsed.
func examples(t testing.TB) map[string]any {
	t.Helper()
	paths, err := fs.Glob(schemas.FS, "examples/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	out := make(map[string]any, len(paths))
	for _, p := range paths {
		raw, err := fs.ReadFile(schemas.FS, p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = parse(t, string(raw))
	}
	return out
}

// Paths tells an operator how many records took each path.
func TestValidatePathsCounted(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	for _, doc := range []string{web, with(`"properties":{"contents":[{"id":"a","quantity":1.0}]}`), with(`"x":1`)} {
		_ = v.Validate(parse(t, doc))
	}
	// web: screened; quantity 1.0: valid, but the screen is not certain;
	// "x": invalid, so only the library can say why.
	if fast, library := v.Paths(); fast != 1 || library != 2 {
		t.Fatalf("Paths() = %d fast, %d library; want 1, 2", fast, library)
	}
}

// The fast path must cover real records, or it only adds work.
func TestScreenAcceptsExamples(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	for p, doc := range examples(t) {
		name := SchemaFor(doc)
		if !v.screens[name].accepts(doc) {
			t.Errorf("%s: the screen of %s is not certain of a valid example", p, name)
		}
	}
}

// TestScreenSoundOnMutations derives many near-valid records from the
// examples (a value replaced by a tricky one, a member dropped or added) and
// checks each screen against the library on every one of them.
func TestScreenSoundOnMutations(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	docs := examples(t)
	names := slices.Sorted(maps.Keys(v.byName))
	paths := slices.Sorted(maps.Keys(docs))
	rng := rand.New(rand.NewPCG(7, 11))
	var bothValid, libraryOnly, bothInvalid int
	for range 20000 {
		doc := mutate(rng, deepCopy(docs[paths[rng.IntN(len(paths))]]))
		for _, name := range names {
			libraryOK := v.byName[name].Validate(doc) == nil
			screenOK := v.screens[name].accepts(doc)
			switch {
			case screenOK && !libraryOK:
				b, _ := json.Marshal(doc)
				t.Fatalf("screen of %s accepts a record the library rejects: %s", name, b)
			case screenOK:
				bothValid++
			case libraryOK:
				libraryOnly++
			default:
				bothInvalid++
			}
		}
	}
	t.Logf("both valid %d, library only %d, both invalid %d", bothValid, libraryOnly, bothInvalid)
	if bothValid == 0 || bothInvalid == 0 {
		t.Fatalf("mutations did not exercise both verdicts: valid %d, invalid %d", bothValid, bothInvalid)
	}
	// Most valid mutations should take the fast path; the rest are the
	// deliberate "not certain" cases (1.0 as an integer, a number equal to
	// an inexact bound).
	if libraryOnly > bothValid/10 {
		t.Errorf("the screen is uncertain of %d of %d valid mutations", libraryOnly, libraryOnly+bothValid)
	}
}

// tricky values for mutations: boundaries of the schemas' keywords.
var tricky = []any{
	nil, true, false, "", " ", "web", "app", "crm", "track", "identify", "granted", "denied", "maybe",
	"usd", "US", "USDX", "2025-03-14T15:09:26Z", "2025-03-14T15:09:26+01:00", "2025-02-30T15:09:26Z",
	"2025-03-14 15:09:26", "2025-03-14T15:09:60Z", "äöü", strings.Repeat("x", 64), strings.Repeat("x", 65),
	strings.Repeat("é", 128), strings.Repeat("é", 129), strings.Repeat("x", 256), strings.Repeat("x", 257),
	json.Number("0"), json.Number("-0"), json.Number("1"), json.Number("-1"), json.Number("0.5"),
	json.Number("1.0"), json.Number("1e2"), json.Number("1000000"), json.Number("1000001"),
	json.Number("-0.000001"), json.Number("1e400"), json.Number("12345678901234567890"),
	map[string]any{}, []any{}, []any{map[string]any{"id": "x"}}, []any{map[string]any{}},
	map[string]any{"analytics": true}, []any{"a"},
}

// mutate changes doc in one to three places.
func mutate(rng *rand.Rand, doc any) any {
	for range 1 + rng.IntN(3) {
		doc = mutateOnce(rng, doc)
	}
	return doc
}

func mutateOnce(rng *rand.Rand, v any) any {
	switch x := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		switch r := rng.IntN(10); {
		case r == 0 && len(keys) > 0:
			delete(x, keys[rng.IntN(len(keys))])
		case r == 1:
			x[[]string{"extra", "custom", "cmp", "x_a", "type", "source", "schema"}[rng.IntN(7)]] = tricky[rng.IntN(len(tricky))]
		case len(keys) > 0:
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(3) == 0 {
				x[k] = tricky[rng.IntN(len(tricky))]
			} else {
				x[k] = mutateOnce(rng, x[k])
			}
		}
		return x
	case []any:
		if len(x) == 0 || rng.IntN(4) == 0 {
			return append(x, tricky[rng.IntN(len(tricky))])
		}
		i := rng.IntN(len(x))
		x[i] = mutateOnce(rng, x[i])
		return x
	}
	return tricky[rng.IntN(len(tricky))]
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// FuzzScreenSound: whatever the input, no screen accepts a document its
// schema rejects.
func FuzzScreenSound(f *testing.F) {
	paths, _ := fs.Glob(schemas.FS, "examples/*.json")
	for _, p := range paths {
		raw, _ := fs.ReadFile(schemas.FS, p)
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			f.Add(buf.Bytes())
		}
	}
	f.Add([]byte(with(`"properties":{"value":-0,"currency":"usd","contents":[{"id":"a","quantity":1.0}]}`)))
	f.Add([]byte(`{"type":"track","messageId":"m","event":"Order Completed","userId":"u","timestamp":"2025-01-01T00:00:00Z"}`))
	v := newValidator(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var doc any
		if dec.Decode(&doc) != nil {
			return
		}
		for name, s := range v.byName {
			if v.screens[name].accepts(doc) && s.Validate(doc) != nil {
				t.Fatalf("screen of %s accepts %s, which the library rejects", name, fmt.Sprint(doc))
			}
		}
	})
}
