package deploy

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// overlays are the kustomizations operators apply; each has a topics/
// kustomization beside it.
var overlays = []string{"overlays/dev", "overlays/prod"}

// TestBaseAndTopicsRender: the base and the topics render on their own too
// (an overlay of someone else's starts from them), and strictly.
func TestBaseAndTopicsRender(t *testing.T) {
	t.Parallel()
	schemas := loadCRDs(t)
	for _, dir := range []string{"base", "topics"} {
		for _, o := range render(t, dir) {
			key := o.APIVersion + "/" + o.Kind
			if mk, ok := builtinTypes[key]; ok {
				if err := decodeStrict(o.JSON, mk()); err != nil {
					t.Errorf("%s: %s: %v", dir, o, err)
				}
			} else if s, ok := schemas[key]; !ok {
				t.Errorf("%s: %s has no type and no CRD", dir, o)
			} else if _, err := s.validate(o.JSON); err != nil {
				t.Errorf("%s: %s: %v", dir, o, err)
			}
		}
	}
}

// stageOf maps each stage Deployment to the stage it runs.
var stageOf = map[string]string{
	"signalpipe-ingest":  app.StageIngest,
	"signalpipe-process": app.StageProcess,
	"signalpipe-deliver": app.StageDeliver,
}

// TestOverlays checks each overlay against the config it deploys and the
// code that runs it: what a wrong manifest would break in a cluster.
func TestOverlays(t *testing.T) {
	t.Parallel()
	for _, dir := range overlays {
		t.Run(strings.ReplaceAll(dir, "/", "_"), func(t *testing.T) {
			t.Parallel()
			m := load(t, dir)
			t.Run("namespaces", func(t *testing.T) { checkNamespaces(t, m) })
			t.Run("stages", func(t *testing.T) { checkStages(t, m) })
			t.Run("secrets", func(t *testing.T) { checkSecrets(t, m) })
			t.Run("service and monitor", func(t *testing.T) { checkService(t, m) })
			t.Run("disruption budgets", func(t *testing.T) { checkPDBs(t, m) })
			t.Run("autoscaling", func(t *testing.T) { checkScaledObjects(t, m) })
			t.Run("topics", func(t *testing.T) { checkTopics(t, m) })
		})
	}
}

func checkNamespaces(t *testing.T, m *manifests) {
	var ns []string
	for _, o := range m.app {
		if o.Kind == "Namespace" {
			ns = append(ns, o.Name)
		}
	}
	if len(ns) != 1 {
		t.Fatalf("want one Namespace, got %v", ns)
	}
	for _, o := range m.app {
		if o.Kind != "Namespace" && o.Namespace != ns[0] {
			t.Errorf("%s is not in namespace %s", o, ns[0])
		}
	}
	for _, o := range m.topics {
		if o.Namespace == "" || o.Namespace == ns[0] {
			t.Errorf("%s: topics belong in the Kafka cluster's namespace, not %q", o, o.Namespace)
		}
	}
}

// signalpipeContainer returns the Deployment's one container.
func signalpipeContainer(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%s: want one container, got %d", d.Name, len(cs))
	}
	return cs[0]
}

func checkStages(t *testing.T, m *manifests) {
	var found []string
	for name, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			checkCommand(t, name, c.Args) // the image's entrypoint is signalpipe
		}
		stage, ok := stageOf[name]
		if !ok {
			if d.Spec.Template.Labels["app.kubernetes.io/name"] == "signalpipe" {
				t.Errorf("%s carries the signalpipe pod label but runs no stage", name)
			}
			checkPodHardening(t, d)
			continue
		}
		found = append(found, stage)
		c := signalpipeContainer(t, d)
		if !strings.Contains(c.Image, "/") || strings.HasSuffix(c.Image, ":latest") {
			t.Errorf("%s: image %q: want a registry image with a tag or digest", name, c.Image)
		}
		if strings.HasSuffix(m.dir, "prod") && (strings.HasSuffix(c.Image, ":dev") || !strings.ContainsAny(c.Image, ":@")) {
			t.Errorf("%s: prod image %q must be pinned to a release or digest", name, c.Image)
		}
		// The command line the pod runs, and the config it reads.
		mount := ""
		for _, vm := range c.VolumeMounts {
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == vm.Name && v.ConfigMap != nil && v.ConfigMap.Name == m.configMap {
					mount = vm.MountPath
				}
			}
		}
		if mount == "" {
			t.Errorf("%s does not mount ConfigMap %s", name, m.configMap)
		}
		want := []string{"run", "--config", mount + "/signalpipe.yaml", "--stages", stage}
		if !slices.Equal(c.Args, want) {
			t.Errorf("%s runs %q, want %q", name, c.Args, want)
		}
		if d.Spec.Replicas != nil {
			t.Errorf("%s sets replicas; KEDA owns them, and an apply would reset its choice", name)
		}
		// Probes on the status server the config starts.
		_, port, err := net.SplitHostPort(m.cfg.Server.Listen)
		if err != nil {
			t.Fatalf("server.listen %q: %v", m.cfg.Server.Listen, err)
		}
		httpPort := int32(0)
		for _, p := range c.Ports {
			if p.Name == "http" {
				httpPort = p.ContainerPort
			}
		}
		if strconv.Itoa(int(httpPort)) != port {
			t.Errorf("%s: container port http is %d, server.listen is %s", name, httpPort, m.cfg.Server.Listen)
		}
		for probe, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != probe || p.HTTPGet.Port.String() != "http" {
				t.Errorf("%s: want an HTTP probe on %s, port http; got %+v", name, probe, p)
			}
		}
		// Shutdown: in-flight batches get deliver.shutdown_timeout before the kill.
		grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
		if grace <= m.cfg.Deliver.ShutdownTimeout {
			t.Errorf("%s: terminationGracePeriodSeconds %s is not above deliver.shutdown_timeout %s", name, grace, m.cfg.Deliver.ShutdownTimeout)
		}
		// Resources, and a Go memory limit below the container's.
		lim, req := c.Resources.Limits, c.Resources.Requests
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			l, lok := lim[r]
			q, qok := req[r]
			if !lok || !qok || q.Cmp(l) > 0 {
				t.Errorf("%s: %s request %v and limit %v: want both, request ≤ limit", name, r, q.String(), l.String())
			}
		}
		gomem := envValue(c, "GOMEMLIMIT")
		if gl, err := resource.ParseQuantity(strings.TrimSuffix(gomem, "B")); err != nil || gl.Cmp(lim[corev1.ResourceMemory]) >= 0 {
			t.Errorf("%s: GOMEMLIMIT %q must be set below the memory limit %s", name, gomem, lim.Memory())
		}
		// The pod name, for the transactional id.
		var podName *corev1.EnvVar
		for i, e := range c.Env {
			if e.Name == "POD_NAME" {
				podName = &c.Env[i]
			}
		}
		if podName == nil || podName.ValueFrom == nil || podName.ValueFrom.FieldRef == nil || podName.ValueFrom.FieldRef.FieldPath != "metadata.name" {
			t.Errorf("%s: want POD_NAME from fieldRef metadata.name", name)
		}
		// Files the config names are mounted.
		if f := m.cfg.Kafka.TLS.CAFile; f != "" {
			checkMountedSecretFile(t, d, c, f)
		}
		checkPodHardening(t, d)
	}
	slices.Sort(found)
	if want := slices.Sorted(slices.Values(app.AllStages)); !slices.Equal(found, want) {
		t.Errorf("stage Deployments run %v, want one per stage %v", found, want)
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// checkMountedSecretFile: path is a file of a Secret volume mounted in c.
func checkMountedSecretFile(t *testing.T, d *appsv1.Deployment, c corev1.Container, path string) {
	for _, vm := range c.VolumeMounts {
		if !strings.HasPrefix(path, vm.MountPath+"/") {
			continue
		}
		file := strings.TrimPrefix(path, vm.MountPath+"/")
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name != vm.Name || v.Secret == nil {
				continue
			}
			if len(v.Secret.Items) == 0 {
				return
			}
			for _, it := range v.Secret.Items {
				if it.Path == file {
					return
				}
			}
		}
	}
	t.Errorf("%s: %s (from the config) is not a file of a mounted Secret", d.Name, path)
}

// checkPodHardening: what the Restricted Pod Security Standard and the
// issue ask of every pod.
func checkPodHardening(t *testing.T, d *appsv1.Deployment) {
	ps := d.Spec.Template.Spec
	if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot must be true", d.Name)
	}
	if ps.SecurityContext == nil || ps.SecurityContext.SeccompProfile == nil || ps.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile must be RuntimeDefault", d.Name)
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Errorf("%s: the pods need no Kubernetes API token; set automountServiceAccountToken: false", d.Name)
	}
	for _, c := range ps.Containers {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s/%s: no securityContext", d.Name, c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: readOnlyRootFilesystem must be true", d.Name, c.Name)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: allowPrivilegeEscalation must be false", d.Name, c.Name)
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s/%s: capabilities must drop ALL and add none", d.Name, c.Name)
		case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			t.Errorf("%s/%s: seccompProfile must be RuntimeDefault", d.Name, c.Name)
		}
		if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
			t.Errorf("%s/%s: want a memory limit and a CPU request", d.Name, c.Name)
		}
	}
}

// checkSecrets: every environment variable the config names for a secret is
// set, from a Secret, in the pods that read it, and never as a literal.
func checkSecrets(t *testing.T, m *manifests) {
	type need struct{ env, why string }
	all := []need{}
	if m.cfg.Server.TokenEnv != "" {
		all = append(all, need{m.cfg.Server.TokenEnv, "server.token_env"})
	}
	if m.cfg.Kafka.SASL.Mechanism != "" {
		all = append(all, need{m.cfg.Kafka.SASL.PasswordEnv, "kafka.sasl.password_env"})
	}
	// What only deliver reads: each destination's credentials.
	var deliverNeeds []need
	for i, d := range m.cfg.Destinations {
		if d.Meta != nil {
			deliverNeeds = append(deliverNeeds, need{d.Meta.AccessTokenEnv, fmt.Sprintf("destinations[%d].meta.access_token_env", i)})
		}
	}
	secretEnvs := map[string]bool{}
	for _, n := range append(slices.Clone(all), deliverNeeds...) {
		secretEnvs[n.env] = true
	}
	for name, d := range m.deployments {
		stage, ok := stageOf[name]
		if !ok {
			continue
		}
		needs := slices.Clone(all)
		if stage == app.StageDeliver {
			needs = append(needs, deliverNeeds...)
		}
		c := signalpipeContainer(t, d)
		for _, n := range needs {
			var e *corev1.EnvVar
			for i := range c.Env {
				if c.Env[i].Name == n.env {
					e = &c.Env[i]
				}
			}
			if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name == "" || e.ValueFrom.SecretKeyRef.Key == "" {
				t.Errorf("%s: %s (%s) must come from a secretKeyRef", name, n.env, n.why)
			}
		}
		for _, e := range c.Env {
			if secretEnvs[e.Name] && e.Value != "" {
				t.Errorf("%s: %s holds a literal value; secrets come from secretKeyRef only", name, e.Name)
			}
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Optional != nil && *e.ValueFrom.SecretKeyRef.Optional {
				t.Errorf("%s: %s is optional; a missing secret must stop the pod, not start it without", name, e.Name)
			}
		}
	}
}

func checkService(t *testing.T, m *manifests) {
	svc, ok := m.services["signalpipe"]
	if !ok {
		t.Fatal("no Service signalpipe")
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for name := range stageOf {
		d := m.deployments[name]
		if d == nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Service signalpipe does not select the pods of %s", name)
		}
	}
	ports := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = true
		if p.TargetPort.String() != "http" {
			t.Errorf("Service port %s targets %s, want the pods' named port http", p.Name, p.TargetPort.String())
		}
	}
	// A destination endpoint on a Service of the overlay (dev: the sandbox) names one of its ports.
	for i, d := range m.cfg.Destinations {
		if d.Meta == nil {
			continue
		}
		u, err := url.Parse(d.Meta.Endpoint)
		if err != nil {
			t.Errorf("destinations[%d].meta.endpoint %q: %v", i, d.Meta.Endpoint, err)
			continue
		}
		host := strings.Split(u.Hostname(), ".")[0]
		if target, ok := m.services[host]; ok {
			found := false
			for _, p := range target.Spec.Ports {
				found = found || strconv.Itoa(int(p.Port)) == u.Port()
			}
			if !found {
				t.Errorf("destinations[%d].meta.endpoint %s: Service %s has no port %s", i, d.Meta.Endpoint, host, u.Port())
			}
		}
	}
	mons := m.custom["ServiceMonitor"]
	if len(mons) != 1 {
		t.Fatalf("want one ServiceMonitor, got %d", len(mons))
	}
	spec := mons[0]["spec"].(map[string]any)
	matchLabels, _ := spec["selector"].(map[string]any)["matchLabels"].(map[string]any)
	set := labels.Set{}
	for k, v := range matchLabels {
		set[k] = fmt.Sprint(v)
	}
	if len(set) == 0 || !labels.SelectorFromSet(set).Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select Service signalpipe (labels %v)", set, svc.Labels)
	}
	for _, e := range spec["endpoints"].([]any) {
		if p := e.(map[string]any)["port"]; !ports[fmt.Sprint(p)] {
			t.Errorf("ServiceMonitor scrapes port %v, which Service signalpipe lacks", p)
		}
	}
}

func checkPDBs(t *testing.T, m *manifests) {
	for name := range stageOf {
		d := m.deployments[name]
		var covered []string
		for pname, p := range m.pdbs {
			sel, err := metaSelector(p.Spec.Selector.MatchLabels)
			if err == nil && d != nil && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				covered = append(covered, pname)
				if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
					t.Errorf("PodDisruptionBudget %s bounds nothing", pname)
				}
			}
		}
		if len(covered) != 1 {
			t.Errorf("%s: want exactly one PodDisruptionBudget, got %v", name, covered)
		}
	}
}

func metaSelector(ml map[string]string) (labels.Selector, error) {
	if len(ml) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	return labels.SelectorFromSet(ml), nil
}

// trigger is a consumer group and one topic it reads: what a KEDA Kafka
// trigger measures.
type trigger struct{ group, topic string }

// consumed is what each stage Deployment's consumer groups read, as
// internal/app names them: <group_prefix>-ingest on the inputs,
// <group_prefix>-process on sp.events, and per destination
// <group_prefix>-deliver-<name> on sp.out.<name>.
func consumed(cfg config.Config) map[string][]trigger {
	tp := cfg.Kafka.Topics()
	out := map[string][]trigger{
		"signalpipe-process": {{cfg.Kafka.GroupPrefix + "-process", tp.Events()}},
	}
	for _, in := range cfg.InputTopics() {
		out["signalpipe-ingest"] = append(out["signalpipe-ingest"], trigger{cfg.Kafka.GroupPrefix + "-ingest", in})
	}
	for _, d := range cfg.Destinations {
		out["signalpipe-deliver"] = append(out["signalpipe-deliver"], trigger{cfg.Kafka.GroupPrefix + "-deliver-" + d.Name, tp.Out(d.Name)})
	}
	return out
}

func sortTriggers(ts []trigger) []trigger {
	slices.SortFunc(ts, func(a, b trigger) int { return strings.Compare(a.group+"/"+a.topic, b.group+"/"+b.topic) })
	return ts
}

// keda's names for kafka.sasl.mechanism.
var kedaSASL = map[string]string{"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}

func checkScaledObjects(t *testing.T, m *manifests) {
	want := consumed(m.cfg)
	auths := map[string]bool{}
	for _, ta := range m.custom["TriggerAuthentication"] {
		auths[ta["metadata"].(map[string]any)["name"].(string)] = true
	}
	seen := map[string]bool{}
	for _, so := range m.custom["ScaledObject"] {
		spec := so["spec"].(map[string]any)
		target := spec["scaleTargetRef"].(map[string]any)["name"].(string)
		seen[target] = true
		w, ok := want[target]
		if !ok || m.deployments[target] == nil {
			t.Errorf("ScaledObject scales %s, which is no stage Deployment", target)
			continue
		}
		var got []trigger
		for _, tr := range spec["triggers"].([]any) {
			tr := tr.(map[string]any)
			md := tr["metadata"].(map[string]any)
			if tr["type"] != "kafka" {
				t.Errorf("%s: trigger type %v, want kafka", target, tr["type"])
				continue
			}
			got = append(got, trigger{fmt.Sprint(md["consumerGroup"]), fmt.Sprint(md["topic"])})
			if bs := strings.Join(m.cfg.Kafka.Brokers, ","); md["bootstrapServers"] != bs {
				t.Errorf("%s: bootstrapServers %v, config kafka.brokers %s", target, md["bootstrapServers"], bs)
			}
			if md["offsetResetPolicy"] != "earliest" {
				t.Errorf("%s: offsetResetPolicy %v; a new group starts at the earliest offset, so its lag counts from there", target, md["offsetResetPolicy"])
			}
			if mech := strings.ToUpper(m.cfg.Kafka.SASL.Mechanism); mech != "" {
				if md["sasl"] != kedaSASL[mech] {
					t.Errorf("%s: sasl %v, want %s for kafka.sasl.mechanism %s", target, md["sasl"], kedaSASL[mech], mech)
				}
				ref, _ := tr["authenticationRef"].(map[string]any)
				if ref == nil || !auths[fmt.Sprint(ref["name"])] {
					t.Errorf("%s: SASL needs an authenticationRef to a TriggerAuthentication in the overlay, got %v", target, ref)
				}
			} else if md["sasl"] != nil {
				t.Errorf("%s: sasl %v, but the config uses none", target, md["sasl"])
			}
			wantTLS := "disable"
			if m.cfg.Kafka.TLS.Enabled {
				wantTLS = "enable"
			}
			if got := md["tls"]; (got == nil && wantTLS == "enable") || (got != nil && got != wantTLS) {
				t.Errorf("%s: tls %v, config kafka.tls.enabled %v", target, got, m.cfg.Kafka.TLS.Enabled)
			}
			if _, err := strconv.Atoi(fmt.Sprint(md["lagThreshold"])); err != nil {
				t.Errorf("%s: lagThreshold %v is not a number", target, md["lagThreshold"])
			}
		}
		if g, w := sortTriggers(got), sortTriggers(w); !slices.Equal(g, w) {
			t.Errorf("%s: triggers on (consumer group, topic) %v; the stage's groups read %v", target, g, w)
		}
		maxR, err := strconv.Atoi(fmt.Sprint(spec["maxReplicaCount"]))
		if err != nil || maxR < 1 || int32(maxR) > m.cfg.Kafka.Partitions {
			t.Errorf("%s: maxReplicaCount %v; want 1..%d (kafka.partitions: more replicas than partitions sit idle)", target, spec["maxReplicaCount"], m.cfg.Kafka.Partitions)
		}
		if minR, err := strconv.Atoi(fmt.Sprint(spec["minReplicaCount"])); err != nil || minR < 1 || minR > maxR {
			t.Errorf("%s: minReplicaCount %v; want 1..maxReplicaCount (%d): a stage at zero replicas serves no status page and no probes", target, spec["minReplicaCount"], maxR)
		}
	}
	for d := range want {
		if !seen[d] {
			t.Errorf("no ScaledObject for %s", d)
		}
	}
}

// checkTopics: the KafkaTopics are exactly the topics the pipeline uses, as
// `signalpipe topics plan` lists them, with its partitions, replication and
// topic configs.
func checkTopics(t *testing.T, m *manifests) {
	pipe, err := app.New(m.cfg, app.Options{Stages: []string{app.StageProcess}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]kafkax.TopicSpec{}
	for _, in := range m.cfg.InputTopics() {
		want[in] = kafkax.TopicSpec{Name: in, Partitions: m.cfg.Kafka.Partitions}
	}
	for _, s := range pipe.Topics() {
		want[s.Name] = s
	}
	got := map[string]map[string]any{}
	for _, kt := range m.custom["KafkaTopic"] {
		md := kt["metadata"].(map[string]any)
		spec := kt["spec"].(map[string]any)
		name := fmt.Sprint(md["name"])
		if tn, ok := spec["topicName"]; ok {
			name = fmt.Sprint(tn)
		}
		got[name] = spec
		lbls, _ := md["labels"].(map[string]any)
		if lbls["strimzi.io/cluster"] == nil {
			t.Errorf("KafkaTopic %s has no strimzi.io/cluster label: no Topic Operator would pick it up", name)
		}
	}
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("KafkaTopics %v; the pipeline uses %v", g, w)
	}
	maxAge := map[string]time.Duration{}
	for _, d := range m.cfg.Destinations {
		if d.Meta != nil {
			maxAge[m.cfg.Kafka.Topics().Out(d.Name)] = d.Meta.MaxEventAge
		}
	}
	for name, spec := range got {
		if p := fmt.Sprint(spec["partitions"]); p != strconv.Itoa(int(want[name].Partitions)) {
			t.Errorf("KafkaTopic %s: %s partitions, kafka.partitions is %d (topics plan would say differs)", name, p, want[name].Partitions)
		}
		replicas, _ := strconv.Atoi(fmt.Sprint(spec["replicas"]))
		if rf := m.cfg.Kafka.ReplicationFactor; rf > 0 && replicas != int(rf) {
			t.Errorf("KafkaTopic %s: %d replicas, kafka.replication_factor is %d", name, replicas, rf)
		}
		cfgs, _ := spec["config"].(map[string]any)
		for k, v := range want[name].Configs {
			if v != nil && fmt.Sprint(cfgs[k]) != *v {
				t.Errorf("KafkaTopic %s: %s = %v, the pipeline asks for %s", name, k, cfgs[k], *v)
			}
		}
		if isr, ok := cfgs["min.insync.replicas"]; ok {
			if n, _ := strconv.Atoi(fmt.Sprint(isr)); n > replicas || n < 1 {
				t.Errorf("KafkaTopic %s: min.insync.replicas %v with %d replicas: every produce would fail", name, isr, replicas)
			}
		}
		if age, ok := maxAge[name]; ok {
			ms, _ := strconv.ParseInt(fmt.Sprint(cfgs["retention.ms"]), 10, 64)
			if time.Duration(ms)*time.Millisecond <= age {
				t.Errorf("KafkaTopic %s: retention.ms %v is not above its destination's max_event_age %s: an outage longer than the retention deletes events without an outcome", name, cfgs["retention.ms"], age)
			}
		}
	}
}
