-- Request mix for the soak test (tests/suites/soak.rs, `make soak`), run by wrk with
-- one connection per thread and no pipelining: the response wrk hands to
-- response() is always that of the last request its thread generated. (A queue
-- would not do: wrk calls request() once more on the first thread to check the
-- script before any connection opens.) Every
-- response is tallied as "<kind> <status> ok|unexpected"; done() prints the
-- tallies of all threads and wrk's error counts for the test to parse.
--
-- Kinds (name, expected status, expected access-control-allow-origin):
-- keep the names in step with KINDS in tests/suites/soak.rs.

local APP = "https://app.example.com"

local function raw(method, path, headers)
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: localhost" }
  for _, h in ipairs(headers) do
    lines[#lines + 1] = h[1] .. ": " .. h[2]
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

local function preflight(origin, extra)
  local headers = { { "Origin", origin }, { "Access-Control-Request-Method", "PUT" } }
  for _, h in ipairs(extra or {}) do
    headers[#headers + 1] = h
  end
  return raw("OPTIONS", "/api/items", headers)
end

local function actual(origin)
  return raw("GET", "/api/items", { { "Origin", origin } })
end

local kinds = {
  { name = "preflight_allowed", status = 204, acao = APP,
    req = preflight(APP, { { "Access-Control-Request-Headers", "content-type, x-api-key" } }) },
  { name = "preflight_wildcard", status = 204, acao = "https://api.example.com",
    req = preflight("https://api.example.com") },
  { name = "preflight_evil_origin", status = 403, req = preflight("https://evilexample.com") },
  { name = "preflight_bad_header", status = 403,
    req = preflight(APP, { { "Access-Control-Request-Headers", "content-type, x-evil" } }) },
  { name = "actual_allowed", status = 200, acao = APP, req = actual(APP) },
  { name = "actual_evil_origin", status = 200, req = actual("https://example.com.evil.io") },
  { name = "no_origin", status = 200, req = raw("GET", "/api/items", {}) },
  -- Hostile.
  { name = "hostile_non_utf8_origin", status = 200, req = actual("https://app.\255\254example.com") },
  { name = "hostile_two_origins", status = 200,
    req = raw("GET", "/api/items", { { "Origin", APP }, { "origin", "https://evil.com" } }) },
  { name = "hostile_uppercase_scheme", status = 200, req = actual("HTTPS://app.example.com") },
  { name = "hostile_null_origin", status = 403, req = preflight("null") },
  { name = "hostile_origin_path", status = 403, req = preflight(APP .. "/") },
  { name = "hostile_8k_list", status = 403,
    req = preflight(APP, { { "Access-Control-Request-Headers", string.rep("content-type,", 630) } }) },
  { name = "hostile_5000_empty", status = 403,
    req = preflight(APP, { { "Access-Control-Request-Headers", "content-type" .. string.rep(",", 5000) } }) },
}

-- Allowed requests are the common case: send them twice as often.
local order = { 1, 2, 3, 4, 5, 1, 6, 7, 5, 8, 9, 10, 11, 12, 13, 14 }

local threads = {}
local next_kind, in_flight = 0, nil
counts = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function request()
  next_kind = next_kind % #order + 1
  in_flight = kinds[order[next_kind]]
  return in_flight.req
end

function response(status, headers, body)
  local kind = in_flight
  local ok = status == kind.status and headers["access-control-allow-origin"] == kind.acao
  local key = kind.name .. " " .. status .. " " .. (ok and "ok" or "unexpected")
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts")) do
      total[key] = (total[key] or 0) + n
    end
  end
  for key, n in pairs(total) do
    io.write(string.format("tally %s %d\n", key, n))
  end
  local e = summary.errors
  io.write(string.format("summary requests %d duration_us %d connect %d read %d write %d timeout %d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout))
end
