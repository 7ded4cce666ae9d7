-- bench/wrk-gate.lua: the client of bench/run --gate. One request shape for
-- every variant; the variant is the Host header (an nginx server block).
--
--   wrk -t T -c C -d D -s bench/wrk-gate.lua URL -- HOST RUN
--
-- Each request: POST /shop/checkout.php with the body item=book,
-- Host: HOST, X-User: bench (the identity, bind = header:X-User) and
-- Idempotency-Key: RUN-<thread>-<n>, unique per request (RUN is unique per
-- wrk run, <thread> per thread, <n> per request of that thread; fixed
-- widths, so every variant sends the same number of bytes). Gated or not,
-- the request is the same.
--
-- An answer is right when it is 201 with checkout.php's JSON. done() prints
--   BENCH requests=.. rps=.. p50_us=.. p99_us=.. bad=.. sockerr=.. non2xx=..
--         ok=.. sent=..
-- ok: 2xx answers; non2xx: every other answer; sent: requests written (sent - requests were in flight
-- when wrk stopped: the server may still have run them). "BENCH-BAD <the
-- first wrong answer>" follows when bad > 0.

local host, run
-- globals: done() reads them with thread:get()
sent, answered, ok, bad = 0, 0, 0, 0
example = nil

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  host, run = args[1], args[2]
end

local body = "item=book"

function request()
  sent = sent + 1
  return wrk.format("POST", "/shop/checkout.php", {
    ["Host"] = host,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-User"] = "bench",
    ["Idempotency-Key"] = string.format("%s-%02d-%09d", run, id, sent),
  }, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 200 and status < 300 then ok = ok + 1 end
  if status ~= 201 or string.sub(body, 1, 19) ~= '{"status":"ordered"' then
    bad = bad + 1
    if not example then
      example = string.format("%s: status %d, body %s", host, status, string.sub(body or "", 1, 200))
    end
  end
end

function done(summary, latency, requests)
  local nsent, nok, nbad, ex = 0, 0, 0, nil
  for _, t in ipairs(threads) do
    nsent = nsent + (t:get("sent") or 0)
    nok = nok + (t:get("ok") or 0)
    nbad = nbad + (t:get("bad") or 0)
    ex = ex or t:get("example")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d bad=%d sockerr=%d non2xx=%d ok=%d sent=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), nbad,
    e.connect + e.read + e.write + e.timeout, summary.requests - nok, nok, nsent))
  if ex then io.write("BENCH-BAD " .. ex .. "\n") end
end
