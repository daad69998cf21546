-- wrk script: client_credentials token request (POST), the same request for Kido and the peer.
--   TOKEN_BODY  form body (default: client_credentials, resource https://api.example.com, scope read)
--   BASIC_AUTH  base64("client_id:client_secret") for client_secret_basic (required)
--   wrk -t2 -c32 -d15s --latency -s bench/lua/token.lua http://127.0.0.1:PORT/oidc/token
wrk.method = "POST"
wrk.body = os.getenv("TOKEN_BODY")
  or "grant_type=client_credentials&resource=https%3A%2F%2Fapi.example.com&scope=read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local basic = os.getenv("BASIC_AUTH")
if basic == nil or basic == "" then
  error("token.lua: set BASIC_AUTH to base64(client_id:client_secret)")
end
wrk.headers["Authorization"] = "Basic " .. basic

-- Counting non-2xx responses and the final report (the same block in every script of bench/lua).
-- wrk itself only counts statuses >= 400; the response hook counts everything outside 200-299.
-- done() prints one line "WRK_JSON {...}" that bench/run.py parses (latencies in microseconds).
-- WRK_NO_RESPONSE_HOOK=1 drops the hook (wrk then skips header parsing per response; for
-- wrk-bound runs); non2xx then falls back to wrk's own count of statuses >= 400.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  first_bad = 0
end

if os.getenv("WRK_NO_RESPONSE_HOOK") ~= "1" then
  function response(status, headers, body)
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad == 0 then first_bad = status end
    end
  end
end

function done(summary, latency, requests)
  local non2xx_total, first = 0, 0
  for _, t in ipairs(threads) do
    non2xx_total = non2xx_total + (t:get("non2xx") or 0)
    local f = t:get("first_bad") or 0
    if first == 0 then first = f end
  end
  local hooked = os.getenv("WRK_NO_RESPONSE_HOOK") ~= "1"
  if not hooked then non2xx_total = summary.errors.status end
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"non2xx\":%d,\"first_non2xx_status\":%d,\"non2xx_counted_by\":\"%s\"," ..
    "\"errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d}," ..
    "\"latency_us\":{\"min\":%d,\"mean\":%.1f,\"stdev\":%.1f,\"max\":%d,\"p50\":%d,\"p75\":%d,\"p90\":%d,\"p99\":%d,\"p999\":%d}}\n",
    summary.requests, summary.duration, summary.bytes, non2xx_total, first, hooked and "response_hook" or "wrk_status_ge_400",
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
