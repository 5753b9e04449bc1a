package schemas_test

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/signalpipe/signalpipe/internal/schema"
	"github.com/signalpipe/signalpipe/schemas"
)

// TestSchemaIDs checks that each schema's $id is where the validator
// registers it, so relative $refs resolve to embedded files.
func TestSchemaIDs(t *testing.T) {
	t.Parallel()
	n := 0
	err := fs.WalkDir(schemas.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "examples/") {
			return err
		}
		n++
		raw, err := fs.ReadFile(schemas.FS, p)
		if err != nil {
			return err
		}
		var doc struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		if want := schemas.BaseURL + p; doc.ID != want {
			t.Errorf("%s: $id = %q, want %q", p, doc.ID, want)
		}
		if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema = %q, want draft 2020-12", p, doc.Schema)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 9 {
		t.Errorf("found %d schemas, want at least 9", n)
	}
}

// TestExamplesValidate checks every example against the schema it names,
// and that the name of the example says which one that is.
func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	v, err := schema.New()
	if err != nil {
		t.Fatalf("schema.New: %v", err)
	}
	paths, err := fs.Glob(schemas.FS, "examples/*.json")
	if err != nil || len(paths) < 5 {
		t.Fatalf("found %d examples (%v), want at least 5", len(paths), err)
	}
	prefixes := map[string]string{
		"web_":     schema.EnvelopeWeb,
		"app_":     schema.EnvelopeApp,
		"crm_":     schema.EnvelopeCRM,
		"segment_": "segment/v1/",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			f, err := schemas.FS.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			dec := json.NewDecoder(f)
			dec.UseNumber()
			var doc any
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("parsing: %v", err)
			}
			name := schema.SchemaFor(doc)
			base := strings.TrimPrefix(p, "examples/")
			matched := false
			for prefix, want := range prefixes {
				if strings.HasPrefix(base, prefix) {
					matched = true
					if !strings.HasPrefix(name, want) {
						t.Errorf("example selects schema %q, want %s…", name, want)
					}
				}
			}
			if !matched {
				t.Errorf("example name does not start with web_, app_, crm_ or segment_")
			}
			if err := v.Validate(doc); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}
