# syntax=docker/dockerfile:1

# Build stage: one static binary, `safeguard` (DESIGN.md, "Shape"). SQLite is pure Go
# (modernc.org/sqlite), so CGO stays off and the result runs on distroless/static.
FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/safeguard ./cmd/safeguard
# The data directory must exist, owned by the runtime user, before VOLUME declares it.
RUN mkdir -p /out/data

# Final stage: no shell, no package manager, runs as uid 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/safeguard /safeguard
COPY --from=build --chown=65532:65532 /out/data /data
# The embedded default keeps its SQLite databases here; mount a volume to keep them.
ENV SAFEGUARD_DATA_DIR=/data \
    SAFEGUARD_ADDR=0.0.0.0:8080 \
    SAFEGUARD_BASE_URL=http://localhost:8080
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/safeguard"]
CMD ["serve"]
