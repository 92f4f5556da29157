# syntax=docker/dockerfile:1
#
# Fluxbrain container image.
#
#   docker build -t fluxbrain:dev .
#
# Stage 1 builds a release binary with the Swift runtime linked statically;
# stage 2 is a slim Debian with only the C libraries the binary still needs.
#
# Package.swift declares swift-tools-version 6.2, so the builder must be
# Swift >= 6.2 (.ci/validate-deploy.sh checks this ARG against Package.swift).
ARG SWIFT_IMAGE=swift:6.2-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first, so dependency resolution is cached independently of
# source edits. Package.resolved is git-ignored in this repo; if it is
# present in the build context it is used, otherwise it is resolved here.
COPY Package.swift Package.resolve[d] ./
COPY Plugins ./Plugins
RUN swift package resolve
# Tests/ is copied because SwiftPM validates every target's directory when it
# loads the package graph (FluxbrainTestSupport lives under Tests/); nothing
# from it is built into the product.
COPY Sources ./Sources
COPY Tests ./Tests
# The build context has no .git: pass the revision, which BuildRevisionPlugin
# embeds (`fluxbrain --version`, User-Agent, fluxbrain_build_info):
#   docker build --build-arg FLUXBRAIN_REVISION=$(git rev-parse --short=12 HEAD) .
ARG FLUXBRAIN_REVISION=unknown
# strip --strip-debug drops DWARF but keeps the symbol table, so crash
# backtraces still name functions. ldd lists what the runtime stage must have.
# fluxbrain-testbed (fake cluster, webhook sink) is a separate binary: the
# product does not contain the testbed; compose runs it from the same image.
RUN export FLUXBRAIN_REVISION \
 && swift build -c release --product fluxbrain --static-swift-stdlib \
 && swift build -c release --product fluxbrain-testbed --static-swift-stdlib \
 && mkdir -p /out \
 && for binary in fluxbrain fluxbrain-testbed; do \
      cp "$(swift build -c release --show-bin-path)/$binary" "/out/$binary" \
      && strip --strip-debug "/out/$binary" && ldd "/out/$binary"; \
    done

FROM ${RUNTIME_IMAGE} AS runtime
# libhiredis0.14: the Redis client library (Debian bookworm package name).
# ca-certificates: TLS to Slack, GitHub, Errorbrain and remote API servers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis0.14 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 fluxbrain \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin fluxbrain
COPY --from=build /out/fluxbrain /usr/local/bin/fluxbrain
COPY --from=build /out/fluxbrain-testbed /usr/local/bin/fluxbrain-testbed
# Embedded example snapshot: default for `fluxbrain once --snapshot` demos and
# the docker-compose fake cluster (/examples/snapshot).
COPY examples /examples
# Fails the image build early if a shared library is missing at runtime.
RUN ["/usr/local/bin/fluxbrain", "--version"]
RUN ["/usr/local/bin/fluxbrain-testbed", "--help"]

# Works with a read-only root filesystem: the only writable place the
# process uses is /tmp (mount a tmpfs / emptyDir there).
ENV HOME=/tmp \
    TMPDIR=/tmp
WORKDIR /tmp
USER 65532:65532
EXPOSE 8080
# No HEALTHCHECK here: the same image also runs `fluxbrain-testbed
# fake-cluster`, `fluxbrain-testbed sink` and `once`. docker-compose.yml and the Kubernetes manifests probe /healthz
# and /readyz themselves.
ENTRYPOINT ["fluxbrain"]
CMD ["run"]
