-- wrk script: count responses by status class and print machine-readable results when the run ends.
--
--   wrk -t2 -c32 -d10s -s bench/report.lua http://127.0.0.1:8000/healthz
--
-- Every line of the report starts with "BENCH " and holds one key=value pair:
--   requests, duration_s, rps (requests / duration), bytes,
--   latency_mean_ms, latency_stdev_ms, latency_max_ms, p50_ms, p90_ms, p95_ms, p99_ms,
--   non_2xx (responses with a status >= 400, as wrk counts them),
--   errors_connect, errors_read, errors_write, errors_status (wrk's own count of status >= 400),
--   errors_timeout.
-- wrk's own `--latency` table has no p95, hence this script.

-- No `response()` hook on purpose: with one, wrk copies every response body into Lua, which costs more
-- the larger the page and made a 30 KB page look several times slower than it is. Statuses >= 400 come
-- from wrk's own count (summary.errors.status).

local function line(key, format, value)
  io.write(string.format("BENCH %s=" .. format .. "\n", key, value))
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  line("requests", "%d", summary.requests)
  line("duration_s", "%.3f", seconds)
  line("rps", "%.2f", seconds > 0 and summary.requests / seconds or 0)
  line("bytes", "%d", summary.bytes)

  -- wrk records latency in microseconds.
  line("latency_mean_ms", "%.3f", latency.mean / 1000)
  line("latency_stdev_ms", "%.3f", latency.stdev / 1000)
  line("latency_max_ms", "%.3f", latency.max / 1000)
  for _, p in ipairs({ 50, 90, 95, 99 }) do
    line("p" .. p .. "_ms", "%.3f", latency:percentile(p) / 1000)
  end

  line("non_2xx", "%d", summary.errors.status)

  local errors = summary.errors
  for _, key in ipairs({ "connect", "read", "write", "status", "timeout" }) do
    line("errors_" .. key, "%d", errors[key])
  end
end
