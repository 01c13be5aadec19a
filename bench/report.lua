-- wrk script: count responses by status class and print machine-readable results when the run ends.
--
--   wrk -t2 -c32 -d10s -s bench/report.lua http://127.0.0.1:8000/healthz
--
-- Every line of the report starts with "BENCH " and holds one key=value pair:
--   requests, duration_s, rps (requests / duration), bytes,
--   latency_mean_ms, latency_stdev_ms, latency_max_ms, p50_ms, p90_ms, p95_ms, p99_ms,
--   status_2xx, status_3xx, status_4xx, status_5xx, status_other, non_2xx (counted here),
--   errors_connect, errors_read, errors_write, errors_status (wrk's own count of status >= 400),
--   errors_timeout.
-- wrk's own `--latency` table has no p95, hence this script.

-- Each wrk thread runs its own copy of this script; these counters live in that thread's state.
status_2xx, status_3xx, status_4xx, status_5xx, status_other = 0, 0, 0, 0, 0

local threads = {}

function setup(thread)
  -- Runs in the main state, once per thread: keep a handle to read the thread's counters in done().
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    status_2xx = status_2xx + 1
  elseif status >= 300 and status < 400 then
    status_3xx = status_3xx + 1
  elseif status >= 400 and status < 500 then
    status_4xx = status_4xx + 1
  elseif status >= 500 and status < 600 then
    status_5xx = status_5xx + 1
  else
    status_other = status_other + 1
  end
end

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

  local totals = { status_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0, status_other = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
  end
  for _, key in ipairs({ "status_2xx", "status_3xx", "status_4xx", "status_5xx", "status_other" }) do
    line(key, "%d", totals[key])
  end
  line("non_2xx", "%d", totals.status_3xx + totals.status_4xx + totals.status_5xx + totals.status_other)

  local errors = summary.errors
  for _, key in ipairs({ "connect", "read", "write", "status", "timeout" }) do
    line("errors_" .. key, "%d", errors[key])
  end
end
