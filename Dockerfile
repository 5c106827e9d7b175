# Latchkey: one self-contained binary (templates, migrations and static files are compiled
# in). Build stage in the Rust image, run stage in slim Debian as an unprivileged user.
#
#   docker build -t latchkey .
#   docker run -p 8080:8080 -v latchkey-data:/var/lib/latchkey/data -v latchkey-keys:/var/lib/latchkey/keys latchkey

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifests first, so the dependency layer is cached while only our code changes.
COPY Cargo.toml Cargo.lock ./
COPY . .
RUN cargo build --release --locked --bin latchkey

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/latchkey --shell /usr/sbin/nologin latchkey \
 && mkdir -p /var/lib/latchkey/data /var/lib/latchkey/keys \
 && chown -R latchkey:latchkey /var/lib/latchkey \
 && chmod 0700 /var/lib/latchkey/keys
COPY --from=build /src/target/release/latchkey /usr/local/bin/latchkey
USER latchkey
WORKDIR /var/lib/latchkey
ENV LATCHKEY_BIND=0.0.0.0:8080 \
    LATCHKEY_DATA_DIR=/var/lib/latchkey/data \
    LATCHKEY_KEYS_DIR=/var/lib/latchkey/keys \
    DATABASE_URL=sqlite:///var/lib/latchkey/data/latchkey.db
VOLUME ["/var/lib/latchkey/data", "/var/lib/latchkey/keys"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["latchkey"]
CMD ["serve"]
