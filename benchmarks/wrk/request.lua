-- wrk script of benchmarks/oidc_bench.py. The request comes from environment variables, so the very
-- same script times both servers:
--   BENCH_METHOD         GET (default) or POST
--   BENCH_BODY           form body of a POST (sent as application/x-www-form-urlencoded)
--   BENCH_AUTHORIZATION  value of the Authorization header ("Basic ..." or "Bearer ...")
--   BENCH_POOL           a file of one entry a line, each used by one request (optional):
--   BENCH_POOL_KIND        "refresh": the entry is a refresh token appended to BENCH_BODY; the
--                          refresh token of each answer goes back into the pool (rotation);
--                          "signin": the entry is "<Cookie header>\t<form body>", used once
--   BENCH_EXPECT         with a pool: the status every answer should have; the others are counted
-- done() prints one line "BENCH_JSON {...}": requests per second and latency percentiles in ms.
--
--   BENCH_METHOD=GET wrk -t1 -c16 -d15s -s benchmarks/wrk/request.lua http://127.0.0.1:8055/jwks.json

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local authorization = os.getenv("BENCH_AUTHORIZATION") or ""
local pool_file = os.getenv("BENCH_POOL") or ""
local pool_kind = os.getenv("BENCH_POOL_KIND") or ""
local expect = tonumber(os.getenv("BENCH_EXPECT") or "")

wrk.method = method
wrk.headers["Accept"] = pool_kind == "signin" and "text/html" or "application/json"
if body ~= "" or pool_file ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

-- Counted in each thread's own state; done() reads them through the thread objects.
unexpected = 0
statuses = ""
exhausted = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

if pool_file ~= "" then
  local pool = {}
  for line in io.lines(pool_file) do
    if line ~= "" then table.insert(pool, line) end
  end
  local fallback = wrk.format("GET", "/.well-known/openid-configuration", {})

  function request()
    local entry = table.remove(pool)
    if entry == nil then
      -- Every entry is spent (or lost to a failed answer): stop rather than send a spent one.
      exhausted = exhausted + 1
      wrk.thread:stop()
      return fallback
    end
    if pool_kind == "signin" then
      local cookie, form = entry:match("^([^\t]*)\t(.*)$")
      local headers = {}
      for name, value in pairs(wrk.headers) do headers[name] = value end
      headers["Cookie"] = cookie
      return wrk.format(nil, nil, headers, form)
    end
    return wrk.format(nil, nil, nil, body .. entry)
  end

  function response(status, headers, answer)
    if expect and status ~= expect then
      unexpected = unexpected + 1
      if #statuses < 200 then statuses = statuses .. status .. " " end
    end
    if pool_kind == "refresh" and status == 200 then
      local token = answer:match('"refresh_token"%s*:%s*"([^"]+)"')
      if token then table.insert(pool, token) end
    end
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local function ms(us) return us / 1000 end
  local odd, seen, spent = 0, "", 0
  for _, thread in ipairs(threads) do
    odd = odd + (thread:get("unexpected") or 0)
    seen = seen .. (thread:get("statuses") or "")
    spent = spent + (thread:get("exhausted") or 0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_s": %.3f, "rps": %.1f, "bytes": %d, '
    .. '"latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f, "mean": %.3f, '
    .. '"stdev": %.3f}, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d}, "unexpected_status": %d, "unexpected_statuses": "%s", '
    .. '"pool_exhausted": %s}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), ms(latency.mean), ms(latency.stdev),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout, odd,
    (seen:gsub("%s+$", "")), spent > 0 and "true" or "false"))
end
