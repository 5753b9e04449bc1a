package ingest

import (
	"bytes"
	"io/fs"
	"reflect"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/signalpipe/signalpipe/schemas"
)

// parseJSON's fast path (Unmarshal with the UseNumber flag) must be in use,
// and keep numbers exact.
func TestParseUsesNumbers(t *testing.T) {
	if useNumber == nil {
		t.Fatal("go-json's UseNumber flag was not found: every record takes the slower Decoder path")
	}
	doc, err := parseJSON([]byte(`{"properties":{"value":12345678901234567890.01,"quantity":1e2}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := doc.(map[string]any)["properties"].(map[string]any)
	if p["value"] != json.Number("12345678901234567890.01") || p["quantity"] != json.Number("1e2") {
		t.Fatalf("numbers not kept as sent: %#v", p)
	}
}

// Strings refer to the record; the document must still equal a copying parse.
func TestParseStringsMatchCopies(t *testing.T) {
	raw := []byte(`{"a":"plain","b":"esc\"aped \u00e9","c":["x",""],"d":{"e":"\ud83d\ude00"}}`)
	doc, err := parseJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := streamParse(bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("parseJSON = %#v, want %#v", doc, want)
	}
}

// FuzzParseAgreesWithStream: Unmarshal accepts exactly what the Decoder
// accepts, with the same document, so the fast path changes no verdict.
func FuzzParseAgreesWithStream(f *testing.F) {
	paths, _ := fs.Glob(schemas.FS, "examples/*.json")
	for _, p := range paths {
		raw, _ := fs.ReadFile(schemas.FS, p)
		f.Add(raw)
	}
	for _, s := range []string{``, ` `, `{}`, `{} {}`, `{"a":1}x`, `[1,2`, `"\ud800"`, "\"\xff\"", `1e400`, `{"a":1,"a":2}`, `nul`, `-0`, `{"a":[]}` + "\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, werr := streamParse(bytes.Clone(raw))
		var got any
		gerr := json.UnmarshalWithOption(raw, &got, useNumber, json.DecodeNoCopyString())
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("Unmarshal error %v, Decoder error %v", gerr, werr)
		}
		if gerr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Unmarshal %#v, Decoder %#v", got, want)
		}
	})
}
