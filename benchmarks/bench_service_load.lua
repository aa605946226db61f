-- wrk script for bench_service_load.py --wrk and bench_hardening.py workers: POST a patient record to
-- /v1/assessments with the API key. MMEMD_BENCH_BODY names the JSON file, MMEMD_BENCH_KEY the key.
-- No response() callback: it would make wrk hand every response to Lua, CPU taken from the server on a 2-core
-- machine; wrk counts non-2xx answers itself ("Non-2xx or 3xx responses").
local f = assert(io.open(os.getenv("MMEMD_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("MMEMD_BENCH_KEY")
