package schema

import (
	"io/fs"
	"testing"

	"github.com/signalpipe/signalpipe/schemas"
)

// BenchmarkValidate compares the two paths of Validate on a typical web
// purchase: the screen (every valid record) and the library (every invalid
// one, and the verdict it would otherwise give).
func BenchmarkValidate(b *testing.B) {
	v := newValidator(b)
	raw, err := fs.ReadFile(schemas.FS, "examples/web_purchase.json")
	if err != nil {
		b.Fatal(err)
	}
	doc := parse(b, string(raw))
	name := SchemaFor(doc)
	b.Run("screen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !v.screens[name].accepts(doc) {
				b.Fatal("not screened")
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := v.byName[name].Validate(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
