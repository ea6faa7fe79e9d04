# An allowed preflight: the plugin answers 204 itself; the upstream never sees it.
curl -si -X OPTIONS http://127.0.0.1:10000/api/items -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: content-type'
# A rejected preflight (origin not allowed): 403 with no CORS headers.
curl -si -X OPTIONS http://127.0.0.1:10000/api/items -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: PUT'
# An actual request from an allowed origin: the upstream's answer plus CORS headers.
curl -si http://127.0.0.1:10000/api/items -H 'Origin: https://app.example.com'
