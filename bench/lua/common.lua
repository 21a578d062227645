-- Shared by every wrk scenario (bench/wrk.py prepends it to the scenario's script).
--
-- Gives each wrk thread an id (`tid`) and a per-thread request counter (`counter`), so a
-- scenario's request() can build a unique body from `tag`, `tid` and `counter`; counts
-- responses by status code; and, in done(), prints one line "BENCH_JSON {...}" that
-- bench/wrk.py parses: requests, duration, latency percentiles, socket errors, statuses.
--
-- Script arguments (after `--` on wrk's command line): args[1] is the run tag, unique per
-- wrk run; the others are the scenario's own (see scenario_init in each script).

local threads = {}
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

counter = 0
statuses = {}
samples = 0
sample = nil

function init(args)
   tag = args[1] or "run"
   if scenario_init ~= nil then
      scenario_init(args)
   end
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if (status < 200 or status > 299) and sample == nil then
      sample = key .. " " .. string.sub(body or "", 1, 300)
   end
end

local function quote(text)
   local escaped = string.gsub(text, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. escaped .. '"'
end

function done(summary, latency, requests)
   local merged = {}
   local errors_sample = {}
   for _, thread in ipairs(threads) do
      local counted = thread:get("statuses")
      if counted ~= nil then
         for status, n in pairs(counted) do
            merged[status] = (merged[status] or 0) + n
         end
      end
      local one = thread:get("sample")
      if one ~= nil then
         table.insert(errors_sample, quote(one))
      end
   end
   local status_parts = {}
   for status, n in pairs(merged) do
      table.insert(status_parts, quote(status) .. ":" .. n)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
         .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"statuses":{%s},"samples":[%s]}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout,
      table.concat(status_parts, ","), table.concat(errors_sample, ",")))
end
