# Multi-stage build: Swift 6 toolchain image to build, slim Debian runtime with libhiredis.
FROM swift:6.2-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libhiredis-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Examples ./Examples
COPY Benchmarks ./Benchmarks
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib \
      --product sessiond --product sessionctl --product example-login --product example-orders \
 && mkdir /out && cp .build/release/sessiond .build/release/sessionctl .build/release/example-login .build/release/example-orders /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libhiredis0.14 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 sessiond
COPY --from=build /out/ /usr/local/bin/
USER sessiond
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sessiond"]
