package schema

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/signalpipe/signalpipe/schemas"
)

func newValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func parse(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("parsing test document: %v", err)
	}
	return doc
}

func TestValidateExamples(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	paths, err := fs.Glob(schemas.FS, "examples/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			raw, err := fs.ReadFile(schemas.FS, p)
			if err != nil {
				t.Fatal(err)
			}
			doc := parse(t, string(raw))
			if SchemaFor(doc) == "" {
				t.Fatalf("example names no schema")
			}
			if err := v.Validate(doc); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

// web is a valid web envelope; tests derive invalid ones from it.
const web = `{"event_id":"e1","event_name":"purchase","event_time":"2025-01-02T03:04:05Z","source":"web",
 "context":{"page_url":"https://x.example/","user_agent":"UA"}}`

// with returns web with extra top-level members spliced in (a later
// duplicate key wins in encoding/json).
func with(members string) string {
	return strings.TrimSuffix(strings.TrimSpace(web), "}") + "," + members + "}"
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	tests := []struct {
		name string
		in   string
		want ValidationError
	}{
		{
			name: "not an object",
			in:   `["x"]`,
			want: ValidationError{Path: "", Message: "type: got array, want object"},
		},
		{
			name: "no source",
			in:   `{"event_id":"e1"}`,
			want: ValidationError{Path: "/source", Message: `required: missing property "source"`},
		},
		{
			name: "unknown source",
			in:   `{"source":"email"}`,
			want: ValidationError{Path: "/source", Message: `enum: want one of "web", "app", "crm"`},
		},
		{
			name: "unsupported segment type",
			in:   `{"type":"group","messageId":"m"}`,
			want: ValidationError{Path: "/type", Message: `enum: want Segment type "track", "identify", "page" or "screen"`},
		},
		{
			name: "missing event_id",
			in:   `{"event_name":"purchase","event_time":"2025-01-02T03:04:05Z","source":"web","context":{"page_url":"u","user_agent":"a"}}`,
			want: ValidationError{Schema: EnvelopeWeb, Path: "/event_id", Message: `required: missing property "event_id"`},
		},
		{
			name: "web without user agent",
			in:   with(`"context":{"page_url":"https://x.example/"}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/context/user_agent", Message: `required: missing property "user_agent"`},
		},
		{
			name: "email of wrong type",
			in:   with(`"user":{"email":42}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/user/email", Message: "type: got number, want string"},
		},
		{
			name: "email too long",
			in:   with(`"user":{"email":"` + strings.Repeat("a", 300) + `@example.com"}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/user/email", Message: "maxLength: 312 characters, want at most 254"},
		},
		{
			name: "bad event_time",
			in:   with(`"event_time":"yesterday"`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/event_time", Message: "format: not a valid date-time"},
		},
		{
			name: "consent value",
			in:   with(`"consent":{"ad_user_data":"yes"}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/consent/ad_user_data", Message: `enum: want one of "granted", "denied"`},
		},
		{
			name: "negative value",
			in:   with(`"properties":{"value":-5}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/properties/value", Message: "minimum: want >= 0"},
		},
		{
			name: "currency not three letters",
			in:   with(`"properties":{"currency":"US$"}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/properties/currency", Message: `pattern: does not match "^[A-Za-z]{3}$"`},
		},
		{
			name: "quantity zero",
			in:   with(`"properties":{"contents":[{"id":"a","quantity":1},{"id":"b","quantity":0}]}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/properties/contents/1/quantity", Message: "minimum: want >= 1"},
		},
		{
			name: "quantity fractional",
			in:   with(`"properties":{"contents":[{"id":"a","quantity":1.5}]}`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/properties/contents/0/quantity", Message: "type: got number, want integer"},
		},
		{
			name: "unknown top-level property",
			in:   with(`"userId":"u1"`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/userId", Message: "additionalProperties: property not allowed"},
		},
		{
			name: "custom is free-form",
			in:   with(`"custom":{"a":1}, "schema":"signalpipe/v2"`),
			want: ValidationError{Schema: EnvelopeWeb, Path: "/schema", Message: `const: want "signalpipe/v1"`},
		},
		{
			name: "crm names nobody",
			in:   `{"event_id":"e","event_name":"closed_deal","event_time":"2025-01-02T03:04:05Z","source":"crm","user":{"email":"  ","first_name":"Ann"}}`,
			want: ValidationError{Schema: EnvelopeCRM, Path: "/user", Message: "anyOf: want at least one non-blank of email, phone, external_id, user_id"},
		},
		{
			name: "app without app name",
			in:   `{"event_id":"e","event_name":"sign_up","event_time":"2025-01-02T03:04:05Z","source":"app","context":{"app":{"version":"1"}}}`,
			want: ValidationError{Schema: EnvelopeApp, Path: "/context/app/name", Message: `required: missing property "name"`},
		},
		{
			name: "segment track anonymous",
			in:   `{"type":"track","event":"Order Completed","messageId":"m","timestamp":"2025-01-02T03:04:05Z","userId":null}`,
			want: ValidationError{Schema: SegmentTrack, Path: "", Message: "anyOf: want a non-empty userId or anonymousId"},
		},
		{
			name: "segment identify without time",
			in:   `{"type":"identify","messageId":"m","userId":"u"}`,
			want: ValidationError{Schema: SegmentIdentify, Path: "", Message: "anyOf: want timestamp or originalTimestamp"},
		},
		{
			name: "segment track without event",
			in:   `{"type":"track","messageId":"m","userId":"u","timestamp":"2025-01-02T03:04:05Z"}`,
			want: ValidationError{Schema: SegmentTrack, Path: "/event", Message: `required: missing property "event"`},
		},
		{
			name: "segment product price",
			in:   `{"type":"track","event":"x","messageId":"m","userId":"u","timestamp":"2025-01-02T03:04:05Z","properties":{"products":[{"price":"9.99"}]}}`,
			want: ValidationError{Schema: SegmentTrack, Path: "/properties/products/0/price", Message: "type: got string, want number"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := v.Validate(parse(t, tt.in))
			var got *ValidationError
			if !errors.As(err, &got) {
				t.Fatalf("Validate = %v, want *ValidationError", err)
			}
			if *got != tt.want {
				t.Errorf("Validate =\n %#v\nwant\n %#v", *got, tt.want)
			}
		})
	}
}

// TestValidateNeverEchoesValues puts a recognizable value in each failing
// position and checks it appears nowhere in the error.
func TestValidateNeverEchoesValues(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	const secret = "Jane.Secret@example.com"
	docs := []string{
		with(`"event_time":"` + secret + `"`),
		with(`"consent":{"analytics":"` + secret + `"}`),
		with(`"source":"` + secret + `"`),
		with(`"schema":"` + secret + `"`),
		with(`"properties":{"currency":"` + secret + `"}`),
		with(`"` + secret + `":1`),
		with(`"user":{"email":"` + strings.Repeat(secret, 20) + `"}`),
		`{"type":"` + secret + `"}`,
		`{"type":"track","event":"x","messageId":"m","userId":"u","timestamp":"` + secret + `"}`,
	}
	for _, d := range docs {
		err := v.Validate(parse(t, d))
		if err == nil {
			t.Fatalf("Validate(%s) = nil, want an error", d)
		}
		if strings.Contains(err.Error(), "Secret") {
			t.Errorf("error echoes the value: %v", err)
		}
	}
}

// TestValidateDeterministic checks that a record with several faults always
// reports the same one, although the library collects them in map order.
func TestValidateDeterministic(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	doc := parse(t, `{"event_id":"","event_name":5,"event_time":"x","source":"web","user":{"email":1,"phone":2},
		"consent":{"analytics":"maybe"},"context":{},"properties":{"value":-1,"currency":"x"},"extra":1}`)
	first := v.Validate(doc).Error()
	for range 50 {
		if got := v.Validate(doc).Error(); got != first {
			t.Fatalf("Validate reported %q, earlier %q", got, first)
		}
	}
	if want := "schema violation (v1/web) at /consent/analytics: "; !strings.HasPrefix(first, want) {
		t.Errorf("Validate = %q, want the smallest path first (%q…)", first, want)
	}
}

func TestSchemaFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"web", `{"source":"web"}`, EnvelopeWeb},
		{"app", `{"source":"app"}`, EnvelopeApp},
		{"crm", `{"source":"crm"}`, EnvelopeCRM},
		{"segment track", `{"type":"track"}`, SegmentTrack},
		{"segment identify", `{"type":"identify"}`, SegmentIdentify},
		{"segment page", `{"type":"page"}`, SegmentPage},
		{"segment screen", `{"type":"screen"}`, SegmentScreen},
		{"segment type wins", `{"type":"track","source":"crm"}`, SegmentTrack},
		{"other type falls back to source", `{"type":"purchase","source":"web"}`, EnvelopeWeb},
		{"unknown source", `{"source":"Web"}`, ""},
		{"nothing", `{}`, ""},
		{"array", `[]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SchemaFor(parse(t, tt.in)); got != tt.want {
				t.Errorf("SchemaFor(%s) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateConcurrent(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	good := parse(t, web)
	bad := parse(t, with(`"user":{"email":1}`))
	done := make(chan error)
	for i := range 8 {
		go func() {
			for range 100 {
				doc := good
				if i%2 == 1 {
					doc = bad
				}
				if err := v.Validate(doc); (err == nil) != (i%2 == 0) {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
