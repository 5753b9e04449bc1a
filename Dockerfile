# syntax=docker/dockerfile:1
# signalpipe container image: one static binary on distroless, run as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t signalpipe:dev .
#   docker run --rm signalpipe:dev version
#
# The build stage's Go version follows go.mod's `go` line (a test in deploy/ keeps them equal).

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# The same flags as `make build`: static (no cgo), reproducible paths, stripped, version baked in.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X github.com/signalpipe/signalpipe/internal/cli.Version=${VERSION}" \
      -o /out/signalpipe ./cmd/signalpipe

# distroless/static: CA certificates, tzdata and /etc/passwd with the nonroot user (65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/signalpipe /usr/local/bin/signalpipe
USER 65532:65532
# 8080: status page, /healthz, /readyz (server.listen); 8090: `signalpipe sandbox`.
EXPOSE 8080 8090
ENTRYPOINT ["/usr/local/bin/signalpipe"]
CMD ["help"]
