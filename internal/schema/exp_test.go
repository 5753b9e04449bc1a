package schema

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/signalpipe/signalpipe/schemas"
)

func BenchmarkExpFlat(b *testing.B) {
	raw, _ := os.ReadFile("/tmp/exp/web_flat.json")
	sd, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AddResource("https://x/web.json", sd)
	sch := c.MustCompile("https://x/web.json")
	ex, _ := fs.ReadFile(schemas.FS, "examples/web_purchase.json")
	var compact bytes.Buffer
	json.Compact(&compact, ex)
	doc := parse(b, compact.String())
	if err := sch.Validate(doc); err != nil { b.Fatal(err) }
	b.ReportAllocs()
	for b.Loop() {
		if err := sch.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}
