// Package deploy holds signalpipe's Kubernetes manifests (a Kustomize base, the Strimzi topics
// and the dev and prod overlays) and, in its tests, the checks that keep them, the
// docker-compose file and the Dockerfile true to the code: every rendered object decodes
// strictly into its Kubernetes type or validates against its CRD's schema, and the stages,
// consumer groups, topics, ports, secrets and config paths they name are the ones the pipeline
// uses. It has no code of its own; see README.md.
package deploy
