-- wrk script: closed-loop pay load like `loadgen.mjs --mode closed`, for when Node's client
-- would be the limit (wrk is C and uses its own cores). Each request pays the next checkout of
-- the tokens file (thread i takes lines i, i+T, i+2T, ...) with a fresh Idempotency-Key.
--
--   wrk -t2 -c32 -d10s -s tests/bench/wrk-pay.lua http://127.0.0.1:PORT -- tokens.txt 2 [pm_card_visa]
--
-- Arguments after `--`: the tokens file (lines `cs_... [pm_...]`), the thread count (the same
-- as -t), the default PaymentMethod. Prints wrk's report, then one JSON line with the
-- loadgen.mjs field names. A thread that runs out of tokens stops ("tokens_exhausted": true).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local tokens = {}
local methods = {}
local next_token = 1
local sent = 0
statuses = {}
exhausted = false

function init(args)
  local file = assert(args[1], "usage: -- TOKENS_FILE THREADS [PAYMENT_METHOD]")
  local count = tonumber(args[2] or "1")
  local default_method = args[3] or "pm_card_visa"
  local i = 0
  for line in io.lines(file) do
    local token, method = line:match("^%s*(cs_[%w_-]+)%s*(%S*)")
    if token then
      if i % count == id then
        table.insert(tokens, token)
        table.insert(methods, method ~= "" and method or default_method)
      end
      i = i + 1
    end
  end
end

function request()
  if next_token > #tokens then
    exhausted = true
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  local token, method = tokens[next_token], methods[next_token]
  next_token = next_token + 1
  sent = sent + 1
  local body = '{"payment_method":"' .. method .. '","email":"bench@example.com","save_card":false}'
  return wrk.format("POST", "/v1/checkouts/" .. token .. "/pay", {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", id, sent, os.time()),
  }, body)
end

function response(status, headers, body)
  if exhausted then return end -- the /healthz filler after stop()
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged, ok, completed, any_exhausted = {}, 0, 0, false
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + n
      completed = completed + n
      if tonumber(status) >= 200 and tonumber(status) < 300 then ok = ok + n end
    end
    any_exhausted = any_exhausted or thread:get("exhausted")
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, string.format('"%s":%d', status, n)) end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local ms = function(us) return us / 1000 end
  io.write(string.format(
    '{"tool":"wrk","mode":"closed","duration_s":%.3f,"tokens_exhausted":%s,"completed":%d,"ok":%d,' ..
    '"network_errors":%d,"requests_per_s":%.3f,"ok_per_s":%.3f,' ..
    '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f},"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    seconds, tostring(any_exhausted), completed, ok,
    e.connect + e.read + e.write + e.timeout, completed / seconds, ok / seconds,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), ms(latency.mean), table.concat(parts, ","),
    e.connect, e.read, e.write, e.timeout))
end
