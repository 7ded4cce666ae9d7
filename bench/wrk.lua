-- bench/wrk.lua: the request generator and answer checker for bench/run.
--
--   wrk -t T -c C -d D -s bench/wrk.lua URL -- MODE TARGET NTHREADS [ARG...]
--
-- MODE     tokens   POST {base}/tokens             app: 201 {"token":...}
--          harvest  POST {base}/tokens, and write each token to ARG1.<thread>
--          fresh    POST {base}/orders, a fresh token per request from the
--                   pool file ARG1 (thread i takes lines i, i+T, ...), ARG2
--                   lines per order; app: 201, no Idempotent-Replayed
--          replay   POST {base}/orders with the one token ARG1 (already used
--                   once); app: 201 with Idempotent-Replayed: true
--          drain    like fresh, for the memory measure: once the pool is
--                   used up, a never-issued token (422, stores nothing)
--          healthz  GET {base}/healthz                 200
--          ceiling  GET /ceiling (nginx return 200)    200
-- TARGET   app | floor | nginx (the floor answers 201 to any POST, 200 to
--          anything else: its checks are on the status only)
--
-- Every answer is checked in response(); done() prints one line
--   BENCH requests=.. rps=.. p50_us=.. p99_us=.. bad=.. sockerr=.. pool_next=..
-- followed, when bad > 0, by "BENCH-BAD <first wrong answer>". bench/run
-- fails the whole run on any bad answer or socket error.

local mode, target, nthreads, arg1, arg2
local base = ""
-- globals: done() reads them with thread:get()
bad, used, exhausted, created = 0, 0, 0, 0
example = nil
local pool = {}
local out = nil
local lines = 1
local order_tail

local function items(n)
  local t = {}
  for i = 1, n do
    t[i] = string.format('{"sku":"SKU-%d","qty":1}', i)
  end
  return '{"items":[' .. table.concat(t, ",") .. ']}'
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  mode, target, nthreads = args[1], args[2], tonumber(args[3])
  arg1, arg2 = args[4], args[5]
  base = (target == "floor") and "/floor" or "/api"
  if mode == "drain" then mode = "fresh"; draining = true end
  if mode == "fresh" then
    lines = tonumber(arg2 or "1")
    order_tail = items(lines)
    if target == "app" then
      local f = assert(io.open(arg1, "r"))
      local n = 0
      for line in f:lines() do
        if n % nthreads == id then
          pool[#pool + 1] = line
        end
        n = n + 1
      end
      f:close()
    end
  elseif mode == "replay" then
    order_tail = items(1)
  elseif mode == "harvest" then
    out = assert(io.open(arg1 .. "." .. id, "w"))
  end
end

local json_hdr = { ["Content-Type"] = "application/json" }
local sample_token = "5f0c6a5e-3d7b-4b1e-9a3f-2c1d0e9b8a77"
local never_issued = "00000000-0000-4000-8000-000000000000"

function request()
  if mode == "tokens" or mode == "harvest" then
    return wrk.format("POST", base .. "/tokens", nil, "")
  elseif mode == "fresh" then
    local tok = sample_token
    if target == "app" then
      used = used + 1
      tok = pool[used]
      if not tok then
        exhausted = exhausted + 1
        tok = never_issued
      end
    end
    return wrk.format("POST", base .. "/orders",
      { ["Content-Type"] = "application/json", ["Idempotency-Key"] = tok }, order_tail)
  elseif mode == "replay" then
    return wrk.format("POST", base .. "/orders",
      { ["Content-Type"] = "application/json", ["Idempotency-Key"] = arg1 }, order_tail)
  elseif mode == "healthz" then
    return wrk.format("GET", base .. "/healthz")
  else
    return wrk.format("GET", "/ceiling")
  end
end

local function wrong(why, status, headers, body)
  bad = bad + 1
  if not example then
    local h = {}
    for k, v in pairs(headers) do h[#h + 1] = k .. ": " .. v end
    example = string.format("%s/%s: %s (status %d; %s; body %s)", mode, target, why,
      status, table.concat(h, "; "), string.sub(body or "", 1, 200))
  end
end

function response(status, headers, body)
  if mode == "tokens" or mode == "harvest" then
    if status ~= 201 then return wrong("expected 201", status, headers, body) end
    if target == "app" then
      local tok = string.match(body, '^{"token":"([0-9a-f-]+)"')
      if not tok then return wrong("no token in the body", status, headers, body) end
      if out then out:write(tok, "\n") end
    end
  elseif mode == "fresh" then
    if draining and status == 422 and exhausted > 0 then return end
    if status ~= 201 then return wrong("expected 201", status, headers, body) end
    created = created + 1
    if target == "app" then
      if headers["Idempotent-Replayed"] then
        return wrong("a fresh order was answered as a replay", status, headers, body)
      end
      if string.sub(body, 1, 12) ~= '{"order_id":' then
        return wrong("no order in the body", status, headers, body)
      end
    end
  elseif mode == "replay" then
    if status ~= 201 then return wrong("expected 201", status, headers, body) end
    if target == "app" and headers["Idempotent-Replayed"] ~= "true" then
      return wrong("a replay without Idempotent-Replayed: true", status, headers, body)
    end
  else
    if status ~= 200 then return wrong("expected 200", status, headers, body) end
  end
end

function done(summary, latency, requests)
  local nbad, maxused, nexh, ex, ncreated = 0, 0, 0, nil, 0
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    nexh = nexh + (t:get("exhausted") or 0)
    ncreated = ncreated + (t:get("created") or 0)
    drain = drain or t:get("draining")
    local u = t:get("used") or 0
    if u > maxused then maxused = u end
    ex = ex or t:get("example")
  end
  local e = summary.errors
  local sockerr = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d bad=%d sockerr=%d non2xx=%d exhausted=%d pool_next=%d created=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), nbad, sockerr, e.status, nexh,
    maxused * counter, ncreated))
  if ex then io.write("BENCH-BAD " .. ex .. "\n") end
  if nexh > 0 and not drain then io.write("BENCH-BAD token pool exhausted: " .. nexh .. " requests had no fresh token\n") end
end
