-- wrk script: POSTs search requests to strata serve, cycling through prepared JSON bodies (one
-- per line of $STRATA_BODIES, written by http_client.py bodies). Each wrk thread has its own
-- Lua state and starts at a different offset.
local bodies = {}
local collection = os.getenv("STRATA_COLLECTION") or "bench"
for line in io.lines(os.getenv("STRATA_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
local headers = { ["Content-Type"] = "application/json" }
local path = "/collections/" .. collection .. "/points/search"

function setup(thread)
  thread:set("offset", math.random(1, #bodies))
end

function init(args)
  i = offset or 0
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", path, headers, bodies[i])
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    "JSON {\"requests\": %d, \"seconds\": %.3f, \"qps\": %.1f, \"p50_us\": %d, \"p90_us\": %d, " ..
    "\"p99_us\": %d, \"p999_us\": %d, \"non2xx\": %d, \"timeouts\": %d, \"connect_errors\": %d, " ..
    "\"read_errors\": %d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), non2xx, summary.errors.timeout, summary.errors.connect,
    summary.errors.read))
end
