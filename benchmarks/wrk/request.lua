-- wrk script of benchmarks/oidc_bench.py. The request comes from environment variables, so the very
-- same script times both servers:
--   BENCH_METHOD         GET (default) or POST
--   BENCH_BODY           form body of a POST (sent as application/x-www-form-urlencoded)
--   BENCH_AUTHORIZATION  value of the Authorization header ("Basic ..." or "Bearer ...")
-- done() prints one line "BENCH_JSON {...}": requests per second and latency percentiles in ms.
--
--   BENCH_METHOD=GET wrk -t1 -c16 -d15s -s benchmarks/wrk/request.lua http://127.0.0.1:8055/jwks.json

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local authorization = os.getenv("BENCH_AUTHORIZATION") or ""

wrk.method = method
wrk.headers["Accept"] = "application/json"
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local function ms(us) return us / 1000 end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_s": %.3f, "rps": %.1f, "bytes": %d, '
    .. '"latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f, "mean": %.3f, '
    .. '"stdev": %.3f}, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d}}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), ms(latency.mean), ms(latency.stdev),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
