# The plugin as the OCI image an Istio WasmPlugin pulls (url: oci://...): one
# layer holding the module at the root as plugin.wasm, the name Istio looks
# for, and nothing else. One COPY makes one layer. `make image` builds it from
# dist/cors.wasm (`make build`); .dockerignore sends only that file.
FROM scratch
COPY dist/cors.wasm ./plugin.wasm
