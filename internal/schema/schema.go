// Package schema validates input records against the JSON Schemas embedded
// in the schemas package (draft 2020-12, compiled once with
// github.com/santhosh-tekuri/jsonschema/v6). A screen built from each
// compiled schema accepts the common, valid record without the library's
// per-node allocations; every other record, and every error, is the
// library's (screen.go).
//
// A record is either signalpipe's own envelope, whose schema is chosen by its
// "source" (web, app, crm), or a Segment-spec call, chosen by its "type"
// (track, identify, page, screen). Validation failures are reported as a
// single *ValidationError naming the schema, the instance location and a
// short message that never repeats the offending value, because the value may
// be personal data and the error travels to the DLQ, outcomes and logs.
package schema

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync/atomic"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/signalpipe/signalpipe/schemas"
)

// Schema names as reported in ValidationError.Schema: the schema's path in
// the schemas package without the .json suffix.
const (
	EnvelopeWeb     = "v1/web"
	EnvelopeApp     = "v1/app"
	EnvelopeCRM     = "v1/crm"
	SegmentTrack    = "segment/v1/track"
	SegmentIdentify = "segment/v1/identify"
	SegmentPage     = "segment/v1/page"
	SegmentScreen   = "segment/v1/screen"
)

// envelopeSchemas maps an envelope's "source" to its schema.
var envelopeSchemas = map[string]string{
	"web": EnvelopeWeb,
	"app": EnvelopeApp,
	"crm": EnvelopeCRM,
}

// segmentSchemas maps a Segment call's "type" to its schema.
var segmentSchemas = map[string]string{
	"track":    SegmentTrack,
	"identify": SegmentIdentify,
	"page":     SegmentPage,
	"screen":   SegmentScreen,
}

// messageKeyword is a schema annotation (ignored by validators) holding the
// message to report when the anyOf/oneOf beside it fails. Without it, the
// failure of "at least one of these" would surface as one arbitrary branch's
// error ("missing email"), which misleads.
const messageKeyword = "x-message"

// Validator validates records against the embedded schemas. It is safe for
// concurrent use; build it once with New.
type Validator struct {
	byName map[string]*jsonschema.Schema
	// screens holds each schema's fast path for valid records (screen.go).
	screens map[string]*screen
	// messages maps a subschema's absolute location to its x-message.
	messages map[string]string
	// fast and slow count the records Validate settled with a screen and
	// with the library.
	fast, slow atomic.Uint64
}

// Paths counts the records Validate has settled on the fast path (a
// screen) and in the library. Valid records the screen is not certain of
// also go to the library; a rising share there costs CPU, not correctness.
func (v *Validator) Paths() (fast, library uint64) {
	return v.fast.Load(), v.slow.Load()
}

// New compiles every embedded schema. It fails if a schema is not valid
// draft 2020-12 or references one that is not embedded; nothing is fetched
// over the network.
func New() (*Validator, error) {
	c := newCompiler()

	v := &Validator{
		byName:   make(map[string]*jsonschema.Schema),
		screens:  make(map[string]*screen),
		messages: make(map[string]string),
	}
	err := fs.WalkDir(schemas.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == "examples" {
				return fs.SkipDir
			}
			return nil
		}
		if path.Ext(p) != ".json" {
			return nil
		}
		raw, err := fs.ReadFile(schemas.FS, p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("parsing schema %s: %w", p, err)
		}
		url := schemas.BaseURL + p
		if err := c.AddResource(url, doc); err != nil {
			return fmt.Errorf("adding schema %s: %w", p, err)
		}
		collectMessages(v.messages, url+"#", doc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading embedded schemas: %w", err)
	}
	for _, names := range []map[string]string{envelopeSchemas, segmentSchemas} {
		for _, name := range names {
			sch, err := c.Compile(schemas.BaseURL + name + ".json")
			if err != nil {
				return nil, fmt.Errorf("compiling schema %s: %w", name, err)
			}
			v.byName[name] = sch
			v.screens[name] = newScreen(sch)
		}
	}
	return v, nil
}

// newCompiler returns the compiler every schema is compiled with.
func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Formats are annotations in 2020-12 unless asserted; event_time must be
	// a real RFC 3339 date-time.
	c.AssertFormat()
	c.UseLoader(noLoader{})
	return c
}

// noLoader refuses every URL: all schemas are embedded, and a $ref to
// anything else is a bug to report at New, not a network fetch.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded", url)
}

// collectMessages records the x-message of every subschema of doc, keyed by
// its absolute location as the library reports it (base + JSON pointer).
func collectMessages(out map[string]string, loc string, doc any) {
	switch d := doc.(type) {
	case map[string]any:
		if m, ok := d[messageKeyword].(string); ok {
			out[loc] = m
		}
		for k, sub := range d {
			collectMessages(out, loc+"/"+escapeToken(k), sub)
		}
	case []any:
		for i, sub := range d {
			collectMessages(out, fmt.Sprintf("%s/%d", loc, i), sub)
		}
	}
}

// SchemaFor names the schema Validate would apply to doc, or "" when doc
// names none (not an object, no known "source" or Segment "type").
func SchemaFor(doc any) string {
	obj, ok := doc.(map[string]any)
	if !ok {
		return ""
	}
	if t, ok := obj["type"].(string); ok {
		if name, ok := segmentSchemas[t]; ok {
			return name
		}
	}
	if s, ok := obj["source"].(string); ok {
		return envelopeSchemas[s]
	}
	return ""
}

// Validate checks doc, a value decoded from JSON with numbers as json.Number
// (json.Decoder.UseNumber) or float64, against the schema it names: a
// Segment call by its "type", else the envelope by its "source". It returns
// nil or a *ValidationError.
func (v *Validator) Validate(doc any) error {
	name := SchemaFor(doc)
	if name == "" {
		return unchosen(doc)
	}
	if v.screens[name].accepts(doc) {
		v.fast.Add(1)
		return nil
	}
	v.slow.Add(1)
	err := v.byName[name].Validate(doc)
	if err == nil {
		return nil
	}
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		// The library only returns *ValidationError; keep the contract anyway.
		return &ValidationError{Schema: name, Message: "validation failed"}
	}
	p, msg := v.flatten(verr)
	return &ValidationError{Schema: name, Path: p, Message: msg}
}

// unchosen explains why no schema could be chosen for doc.
func unchosen(doc any) *ValidationError {
	obj, ok := doc.(map[string]any)
	if !ok {
		return &ValidationError{Message: "type: got " + jsonType(doc) + ", want object"}
	}
	if _, ok := obj["source"]; ok {
		if _, ok := obj["source"].(string); !ok {
			return &ValidationError{Path: "/source", Message: "type: got " + jsonType(obj["source"]) + ", want string"}
		}
		return &ValidationError{Path: "/source", Message: `enum: want one of "web", "app", "crm"`}
	}
	if _, ok := obj["type"]; ok {
		return &ValidationError{Path: "/type", Message: `enum: want Segment type "track", "identify", "page" or "screen"`}
	}
	return &ValidationError{Path: "/source", Message: `required: missing property "source"`}
}

// ValidationError is why a record failed its schema. It never contains the
// offending value.
type ValidationError struct {
	// Schema names the schema applied (EnvelopeWeb, SegmentTrack, …); empty
	// when the record named none.
	Schema string
	// Path is the JSON pointer of the failing instance location, such as
	// /user/email; "" is the whole record. For a missing required property
	// or a property that is not allowed, it names that property.
	Path string
	// Message is a short explanation naming the schema keyword that failed.
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("schema violation")
	if e.Schema != "" {
		b.WriteString(" (" + e.Schema + ")")
	}
	b.WriteString(" at ")
	if e.Path == "" {
		b.WriteString("/")
	} else {
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}
