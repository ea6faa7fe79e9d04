# The plugin as the OCI image an Istio WasmPlugin pulls (url: oci://...): one
# layer holding the module at the root as plugin.wasm, the name Istio looks
# for, and nothing else. One COPY makes one layer. `make image` builds it from
# dist/cors.wasm (`make build`); `make release` from dist/release/cors.wasm
# (WASM), with the org.opencontainers.image labels. .dockerignore sends only
# those two files.
FROM scratch
ARG WASM=dist/cors.wasm
COPY ${WASM} ./plugin.wasm
