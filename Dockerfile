# syntax=docker/dockerfile:1
# infergate's container image: one static binary on distroless, running as
# the non-root user 65532. The same image runs the gateway (`serve`), the
# simulator (`sim`) and the other subcommands.
#
#   docker build --build-arg VERSION=v0.1.0 -t ghcr.io/infergate/infergate:v0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 ...   # multi-arch

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
    -o /out/infergate ./cmd/infergate

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/infergate /infergate
USER 65532:65532
# 8080: OpenAI-compatible proxy; 9090: metrics, probes, pprof, dashboard.
EXPOSE 8080 9090
ENTRYPOINT ["/infergate"]
CMD ["serve", "--config", "/etc/infergate/config.yaml"]
