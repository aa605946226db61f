-- wrk script for bench_service_load.py --wrk: POST a patient record to /v1/assessments with the API key.
-- MMEMD_BENCH_BODY names the JSON file, MMEMD_BENCH_KEY the key; a non-200 answer is counted as an error.
local f = assert(io.open(os.getenv("MMEMD_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("MMEMD_BENCH_KEY")

local bad = 0
function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("non-200 responses: %d (of %d)\n", bad, summary.requests))
end
