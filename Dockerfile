# syntax=docker/dockerfile:1
# mailcatch: build with the Rust toolchain, ship only the binary.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so they are cached across source changes.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked && rm -rf src
COPY src ./src
COPY web ./web
RUN cargo build --release --locked --bin mailcatch \
    && strip target/release/mailcatch

# distroless/cc has glibc and nothing else: no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/mailcatch /mailcatch
# Inside a container, listen on every interface so published ports work.
ENV MP_SMTP_BIND_ADDR=0.0.0.0:1025 \
    MP_UI_BIND_ADDR=0.0.0.0:8025
EXPOSE 1025 8025
# The binary probes its own /readyz (it reads MP_UI_BIND_ADDR).
HEALTHCHECK --interval=15s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/mailcatch", "readyz"]
USER nonroot
ENTRYPOINT ["/mailcatch"]
