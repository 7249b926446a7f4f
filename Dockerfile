# Multi-stage build of mbcas-operator into a minimal, non-root runtime image.
#   docker build -t mbcas/operator:0.1.0 .
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      libcurl4-openssl-dev libcjson-dev libyaml-dev libssl-dev libwebsockets-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target mbcas-operator -j"$(nproc)" \
 && strip /build/operator/mbcas-operator

FROM debian:bookworm-slim
# Runtime libraries only (no compilers, no shells beyond the base image's).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libcurl4 libcjson1 libyaml-0-2 \
      libssl3 libwebsockets17 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/operator/mbcas-operator /usr/local/bin/mbcas-operator
# 65532 is the conventional "nonroot" uid; the chart runs as it with a read-only root fs.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/mbcas-operator"]
