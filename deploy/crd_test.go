package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// crdSchema is one served version of a CRD, compiled as JSON Schema.
type crdSchema struct {
	source string // file name in testdata/crds
	schema *jsonschema.Schema
}

// validate checks a rendered object against the schema and returns it as
// JSON values.
func (s *crdSchema) validate(js []byte) (map[string]any, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	if err := s.schema.Validate(v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

var (
	crdsOnce sync.Once
	crds     map[string]*crdSchema
	crdsErr  error
)

// loadCRDs compiles every served version of every CRD in testdata/crds,
// keyed by "group/version/Kind" (the rendered object's apiVersion/kind).
func loadCRDs(t *testing.T) map[string]*crdSchema {
	t.Helper()
	crdsOnce.Do(func() { crds, crdsErr = compileCRDs("testdata/crds") })
	if crdsErr != nil {
		t.Fatal(crdsErr)
	}
	return crds
}

func compileCRDs(dir string) (map[string]*crdSchema, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no CRDs in %s: %v", dir, err)
	}
	out := map[string]*crdSchema{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		crd, _ := doc.(map[string]any)
		spec, _ := crd["spec"].(map[string]any)
		names, _ := spec["names"].(map[string]any)
		group, _ := spec["group"].(string)
		kind, _ := names["kind"].(string)
		versions, _ := spec["versions"].([]any)
		if crd["kind"] != "CustomResourceDefinition" || group == "" || kind == "" || len(versions) == 0 {
			return nil, fmt.Errorf("%s is not a CustomResourceDefinition with a group, a kind and versions", f)
		}
		for _, vv := range versions {
			v, _ := vv.(map[string]any)
			name, _ := v["name"].(string)
			sch, _ := v["schema"].(map[string]any)
			root, ok := sch["openAPIV3Schema"].(map[string]any)
			if v["served"] != true || !ok {
				continue
			}
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft2020)
			url := "file:///" + filepath.Base(f) + "/" + name
			if err := c.AddResource(url, structural(root)); err != nil {
				return nil, fmt.Errorf("%s %s: %w", f, name, err)
			}
			s, err := c.Compile(url)
			if err != nil {
				return nil, fmt.Errorf("%s %s: compiling openAPIV3Schema: %w", f, name, err)
			}
			out[group+"/"+name+"/"+kind] = &crdSchema{source: filepath.Base(f), schema: s}
		}
	}
	return out, nil
}

// structural turns a CRD's OpenAPI v3 schema into the JSON Schema the API
// server effectively enforces with strict field validation: an object that
// lists its properties accepts no others (unless it preserves unknown
// fields), and `nullable: true` admits null.
func structural(n any) any {
	switch n := n.(type) {
	case []any:
		out := make([]any, len(n))
		for i, e := range n {
			out[i] = structural(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(n)+1)
		for k, v := range n {
			switch k {
			case "properties", "patternProperties", "definitions", "$defs":
				props, _ := v.(map[string]any)
				cp := make(map[string]any, len(props))
				for pk, pv := range props {
					cp[pk] = structural(pv)
				}
				out[k] = cp
			case "items", "additionalProperties", "not", "allOf", "anyOf", "oneOf":
				out[k] = structural(v)
			default:
				out[k] = v
			}
		}
		if out["nullable"] == true {
			if typ, ok := out["type"].(string); ok {
				out["type"] = []any{typ, "null"}
			}
			delete(out, "nullable")
		}
		_, hasProps := out["properties"]
		_, hasAdditional := out["additionalProperties"]
		if hasProps && !hasAdditional && out["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out
	default:
		return n
	}
}

// TestCRDSchemasAreStrict: the schemas reject what `kubectl apply` with
// strict validation rejects — an unknown or misspelt field, a value of the
// wrong type, a missing required field — so the checks of the rendered
// custom resources mean something.
func TestCRDSchemasAreStrict(t *testing.T) {
	t.Parallel()
	schemas := loadCRDs(t)
	for _, tt := range []struct {
		name, key, doc string
		wantErr        string // substring of the error; "" = valid
	}{
		{"scaledobject ok", "keda.sh/v1alpha1/ScaledObject",
			`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"d"},"triggers":[{"type":"kafka","metadata":{"topic":"t"}}]}}`, ""},
		{"scaledobject misspelt field", "keda.sh/v1alpha1/ScaledObject",
			`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"d"},"maxReplicas":3,"triggers":[{"type":"kafka","metadata":{}}]}}`, "maxReplicas"},
		{"scaledobject metadata value not a string", "keda.sh/v1alpha1/ScaledObject",
			`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"d"},"triggers":[{"type":"kafka","metadata":{"lagThreshold":10}}]}}`, "lagThreshold"},
		{"scaledobject without triggers", "keda.sh/v1alpha1/ScaledObject",
			`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"d"}}}`, "triggers"},
		{"kafkatopic ok", "kafka.strimzi.io/v1/KafkaTopic",
			`{"apiVersion":"kafka.strimzi.io/v1","kind":"KafkaTopic","metadata":{"name":"t"},"spec":{"partitions":3,"replicas":1,"config":{"retention.ms":1}}}`, ""},
		{"kafkatopic zero partitions", "kafka.strimzi.io/v1/KafkaTopic",
			`{"apiVersion":"kafka.strimzi.io/v1","kind":"KafkaTopic","metadata":{"name":"t"},"spec":{"partitions":0}}`, "partitions"},
		{"kafkatopic unknown field", "kafka.strimzi.io/v1/KafkaTopic",
			`{"apiVersion":"kafka.strimzi.io/v1","kind":"KafkaTopic","metadata":{"name":"t"},"spec":{"partitions":3,"retention":"7d"}}`, "retention"},
		{"servicemonitor unknown endpoint field", "monitoring.coreos.com/v1/ServiceMonitor",
			`{"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"m"},"spec":{"selector":{},"endpoints":[{"port":"http","pth":"/metrics"}]}}`, "pth"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := schemas[tt.key]
			if !ok {
				t.Fatalf("no schema for %s", tt.key)
			}
			_, err := s.validate([]byte(tt.doc))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("valid object rejected: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("accepted; want an error naming %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %q does not name %q", err, tt.wantErr)
			}
		})
	}
}

// TestStrictDecodingRejectsUnknownFields: a misspelt field in a built-in
// object fails the test instead of being dropped silently by the API server.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, doc, want string }{
		{"unknown field", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replica":2}}`, "replica"},
		{"wrong case", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"Replicas":2}}`, "Replicas"},
		{"duplicate field", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2,"replicas":3}}`, "replicas"},
	} {
		err := decodeStrict([]byte(tt.doc), builtinTypes["apps/v1/Deployment"]())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want one naming %q", tt.name, err, tt.want)
		}
	}
}
