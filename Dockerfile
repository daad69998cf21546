# syntax=docker/dockerfile:1
# Kido in a container: a release build in the Rust image, run from a small Debian image as a
# non-root user, data in the /data volume.
#
#   docker build --build-arg KIDO_GIT_COMMIT=$(git rev-parse --short=12 HEAD) -t kido .
#   docker run -p 3001:3001 -p 3002:3002 -v kido-data:/data kido
#
# PostgreSQL instead of the SQLite file in /data: -e DATABASE_URL=postgres://user:pass@host:5432/kido

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# The toolchain rust-toolchain.toml names is installed by rustup on the first cargo call.
COPY rust-toolchain.toml Cargo.toml Cargo.lock ./
COPY crates ./crates
ARG KIDO_GIT_COMMIT=unknown
ENV KIDO_GIT_COMMIT=${KIDO_GIT_COMMIT}
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kido \
    && cp target/release/kido /usr/local/bin/kido

FROM debian:bookworm-slim
# ca-certificates: outbound TLS (webhooks, SMTP, identity providers) verifies servers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin kido \
    && mkdir -p /data && chown kido:kido /data && chmod 0700 /data
COPY --from=build /usr/local/bin/kido /usr/local/bin/kido
USER kido
WORKDIR /data
ENV KIDO_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 3001 3002
# Kido answers SIGTERM by finishing requests in flight (KIDO_SHUTDOWN_TIMEOUT_SECS).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kido"]
CMD ["serve"]
