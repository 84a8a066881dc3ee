# The gateway's container image: a static binary (CGO off) on distroless,
# run as a non-root user, with a read-only root filesystem in mind: the
# only place it writes is its data directory, /var/lib/llmgw, which is the
# working directory and a volume (the embedded SQLite store, the usage
# ledger's spool). With PostgreSQL as the store, the volume holds only the
# spool; mount an emptyDir or a persistent volume there.
#
#   docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t llmgw:v1.2.3 .
#   docker run --read-only -p 8080:8080 -v llmgw-data:/var/lib/llmgw \
#     -v $PWD/llmgw.yaml:/etc/llmgw/llmgw.yaml:ro -e LLMGW_CONFIG=/etc/llmgw/llmgw.yaml llmgw:v1.2.3

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
ARG VERSION=devel
ARG COMMIT=
ARG DATE=
# The README's build command, static and stamped with the build information.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" -o bin/llmgw ./cmd/llmgw
# The data directory, owned by the user the gateway runs as.
RUN mkdir -p /out/var/lib/llmgw && chown 65532:65532 /out/var/lib/llmgw

# distroless/static: CA certificates, tzdata and /etc/passwd's nonroot
# user (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/llmgw /usr/local/bin/llmgw
COPY --from=build --chown=65532:65532 /out/var/lib/llmgw /var/lib/llmgw
USER 65532:65532
WORKDIR /var/lib/llmgw
# Built-in defaults (no config file) keep their state here too.
ENV LLMGW_DATA_DIR=/var/lib/llmgw
VOLUME ["/var/lib/llmgw"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/llmgw"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
