package deploy

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/signalpipe/signalpipe/internal/config"
)

// object is one rendered Kubernetes object: its identity and its JSON.
type object struct {
	APIVersion, Kind, Name, Namespace string
	JSON                              []byte
}

func (o object) String() string {
	return fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name)
}

// renderMu serializes krusty: kyaml fills its global OpenAPI schema lazily
// without a lock, so two renders at once race (the race detector caught it
// in CI). Checking the rendered objects still runs in parallel.
var renderMu sync.Mutex

// render builds the kustomization in dir (relative to deploy/) as
// `kubectl apply -k` would.
func render(t *testing.T, dir string) []object {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	renderMu.Lock()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), abs)
	renderMu.Unlock()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []object
	for _, r := range m.Resources() {
		js, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, r.CurId(), err)
		}
		out = append(out, object{APIVersion: r.GetApiVersion(), Kind: r.GetKind(), Name: r.GetName(), Namespace: r.GetNamespace(), JSON: js})
	}
	return out
}

// builtinTypes are the Kubernetes kinds the manifests may hold, decoded
// into their k8s.io/api types. Anything else must be a custom resource
// with a CRD in testdata/crds.
var builtinTypes = map[string]func() any{
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"v1/Service":                    func() any { return &corev1.Service{} },
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"v1/ServiceAccount":             func() any { return &corev1.ServiceAccount{} },
	"v1/Namespace":                  func() any { return &corev1.Namespace{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
}

// decodeStrict decodes js into v as the API server does with
// fieldValidation=Strict: an unknown field, a duplicate field or a field in
// the wrong case is an error.
func decodeStrict(js []byte, v any) error {
	strictErrs, err := kjson.UnmarshalStrict(js, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// manifests is one overlay rendered and decoded: the app's objects, the
// topics' objects and the config the ConfigMap carries.
type manifests struct {
	dir         string
	app, topics []object
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	pdbs        map[string]*policyv1.PodDisruptionBudget
	configMaps  map[string]*corev1.ConfigMap
	custom      map[string][]map[string]any // kind → objects, as JSON values
	cfg         config.Config
	configMap   string // the generated ConfigMap's name (with its hash)
}

// load renders an overlay and its topics and decodes everything strictly;
// every decoding or schema failure is reported.
func load(t *testing.T, overlay string) *manifests {
	t.Helper()
	m := &manifests{
		dir:         overlay,
		app:         render(t, overlay),
		topics:      render(t, filepath.Join(overlay, "topics")),
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		pdbs:        map[string]*policyv1.PodDisruptionBudget{},
		configMaps:  map[string]*corev1.ConfigMap{},
		custom:      map[string][]map[string]any{},
	}
	schemas := loadCRDs(t)
	for _, o := range append(append([]object{}, m.app...), m.topics...) {
		key := o.APIVersion + "/" + o.Kind
		if o.Kind == "Secret" {
			t.Errorf("%s: %s renders a Secret; secrets are created outside these manifests", overlay, o)
			continue
		}
		if mk, ok := builtinTypes[key]; ok {
			v := mk()
			if err := decodeStrict(o.JSON, v); err != nil {
				t.Errorf("%s: %s does not decode strictly into its Kubernetes type: %v", overlay, o, err)
				continue
			}
			switch v := v.(type) {
			case *appsv1.Deployment:
				m.deployments[o.Name] = v
			case *corev1.Service:
				m.services[o.Name] = v
			case *policyv1.PodDisruptionBudget:
				m.pdbs[o.Name] = v
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = v
			}
			continue
		}
		s, ok := schemas[key]
		if !ok {
			t.Errorf("%s: %s: no Kubernetes type and no CRD in testdata/crds for %s", overlay, o, key)
			continue
		}
		v, err := s.validate(o.JSON)
		if err != nil {
			t.Errorf("%s: %s does not validate against its CRD (%s): %v", overlay, o, s.source, err)
			continue
		}
		m.custom[o.Kind] = append(m.custom[o.Kind], v)
	}
	if t.Failed() {
		t.FailNow()
	}
	for name, cm := range m.configMaps {
		if raw, ok := cm.Data["signalpipe.yaml"]; ok {
			cfg, err := config.Decode(bytes.NewReader([]byte(raw)))
			if err != nil {
				t.Fatalf("%s: the config in ConfigMap %s is not valid for this signalpipe:\n%v", overlay, name, err)
			}
			m.cfg, m.configMap = cfg, name
		}
	}
	if m.configMap == "" {
		t.Fatalf("%s: no ConfigMap carries signalpipe.yaml", overlay)
	}
	return m
}
