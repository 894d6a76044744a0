-- wrk script for the caller-ID lookup benchmark (and its nginx baseline, with the same
-- client-side work): every request carries the next stored number from BENCH_NUMBERS (one
-- URL-encoded number per line, written by load_customers) after the path prefix BENCH_PATH,
-- and the bearer token BENCH_TOKEN. Each thread starts at a different place in the list.
-- done() prints one machine line starting with "RESULT ".
local prefix = os.getenv("BENCH_PATH") or "/api/v1/lookup/phone?number="
local numbers = {}
local pos = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_NUMBERS")) do
    numbers[#numbers + 1] = line
  end
  if #numbers == 0 then error("no numbers in " .. os.getenv("BENCH_NUMBERS")) end
  pos = math.floor(#numbers * tid / 7) % #numbers
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
end

function request()
  pos = pos % #numbers + 1
  return wrk.format("GET", prefix .. numbers[pos])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
