-- wrk script of devtools/bench.py (the load section): checks EVERY response, counts the ones that fail.
--
--   wrk ... --latency -s devtools/wrk_check.lua URL -- STATUS MARKER [MARKER ...]
--
-- A response passes when its status is STATUS and its body contains every MARKER (plain substring); a MARKER
-- written "=text" means the body must be exactly "text". wrk never follows redirects, so a login redirect is a 302
-- here, a failure. At the end `done` prints one line the benchmark parses:
--   wrk-check checked=N passed=N bad_status=N missing_marker=N p50_us=N p95_us=N p99_us=N first_failure=...

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state; `done` reads these globals with thread:get).
checked, passed, bad_status, missing_marker, first_failure = 0, 0, 0, 0, ""
local expected_status, markers = 200, {}

function init(args)
  -- args[0] is the URL; the arguments after "--" follow.
  expected_status = tonumber(args[1]) or 200
  for i = 2, #args do
    markers[#markers + 1] = args[i]
  end
end

local function has_marker(body, marker)
  if string.sub(marker, 1, 1) == "=" then
    return body == string.sub(marker, 2)
  end
  return string.find(body, marker, 1, true) ~= nil
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= expected_status then
    bad_status = bad_status + 1
    if first_failure == "" then
      first_failure = "HTTP " .. status .. (headers["Location"] and (" to " .. headers["Location"]) or "")
    end
    return
  end
  for _, marker in ipairs(markers) do
    if not has_marker(body or "", marker) then
      missing_marker = missing_marker + 1
      if first_failure == "" then
        first_failure = "HTTP " .. status .. " without " .. marker
      end
      return
    end
  end
  passed = passed + 1
end

function done(summary, latency, requests)
  local totals = {checked = 0, passed = 0, bad_status = 0, missing_marker = 0}
  local first = ""
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
    local failure = thread:get("first_failure") or ""
    if first == "" then
      first = failure
    end
  end
  io.write(string.format(
    "wrk-check checked=%d passed=%d bad_status=%d missing_marker=%d p50_us=%d p95_us=%d p99_us=%d first_failure=%s\n",
    totals.checked, totals.passed, totals.bad_status, totals.missing_marker,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), (first:gsub("[\r\n]", " "))))
end
