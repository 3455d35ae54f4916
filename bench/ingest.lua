-- wrk script for bench/ingest.py: ODK Collect's submission handshake, HEAD then POST.
--
--   wrk -s bench/ingest.lua -c N -t T -d <D>s http://host:port/key/<token>/submission \
--       -- <nonce> <window> <form version> [fixed-boundary]
--
-- nonce    12 hex digits making this run's instanceIDs unique; with the wrk thread id and a per-thread
--          counter they form uuid:<nonce[1..8]>-<nonce[9..12]>-4<thread>-8000-<counter>
-- window   measured seconds (< D). Rates count the answers inside the window. After it no new POST is sent,
--          and each wrk thread stops once its last POST is answered, so every POST sent is accounted for and
--          the stored rows can be checked exactly.
-- form version  the `version` attribute of the submitted household_visit instance (the published version)
-- fixed-boundary  the same multipart boundary in every POST; by default each POST has its own, as ODK
--          Collect (OkHttp) sends a random UUID boundary with every request.
--
-- Per wrk thread, a POST is sent only after a HEAD of that thread was answered 204 (Collect: HEAD, then
-- POST). With several connections per thread the POST may go out on another keep-alive connection of the
-- thread than its HEAD; the server keeps no state between the two, so it is the same work for it.
-- A 201 counts as a stored submission, a 204 as an answered HEAD; anything else is counted and reported.
-- The `done` hook prints a summary and one line `INGEST_RESULT {json}` that bench/ingest.py parses.

local ok_ffi, ffi = pcall(require, "ffi")
local now
if ok_ffi then
   ffi.cdef [[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clk_id, bench_timespec *tp);
   ]]
   local ts = ffi.new("bench_timespec")
   now = function()
      ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
      return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
   end
else
   now = os.time  -- whole seconds only; wrk is normally built with LuaJIT, which has ffi
end

-- ---- main Lua state: hand out thread ids, collect per-thread counters in `done` -------------------------

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("thread_id", next_id)
   table.insert(threads, thread)
end

-- ---- per-thread state ------------------------------------------------------------------------------------

local nonce = "000000000000"
local form_version = "2026112201"
local fixed_boundary = false  -- true: the same multipart boundary in every POST (werkzeug caches its regex)
local window = 10
local drain_at = math.huge
local verified = false
local counter = 0
local pending_posts = 0     -- HEADs answered 204 whose POST is not sent yet
local host_header

-- counters read by `done`
heads_sent, posts_sent, responses = 0, 0, 0
heads_204, posts_201, others = 0, 0, 0
win_201, win_responses = 0, 0  -- answered inside the measurement window
drain_responses = 0            -- answered after it
local stopped = false
other_statuses = ""            -- "status:count ..." of unexpected answers
other_samples = ""             -- the first few unexpected bodies, for the report
local other_by_status = {}

function init(args)
   nonce = args[1] or nonce
   window = tonumber(args[2] or window)
   form_version = args[3] or form_version
   fixed_boundary = args[4] == "fixed-boundary"
   drain_at = now() + window
   host_header = wrk.host .. ":" .. tostring(wrk.port or 80)
end

local function http_date()
   return os.date("!%a, %d %b %Y %H:%M:%S GMT")
end

local function headers()
   return {
      ["Host"] = host_header or wrk.host,
      ["X-OpenRosa-Version"] = "1.0",
      ["Date"] = http_date(),
      ["User-Agent"] = "taizhang-bench (wrk)",
   }
end

local function uuid_for(n)
   -- uuid-shaped and unique per run, wrk thread and request: run nonce (12 hex), thread id, counter
   return string.format("%s-%s-4%03x-8%03x-%012x", string.sub(nonce, 1, 8), string.sub(nonce, 9, 12),
                        (thread_id or 0) % 4096, math.floor(n / 2^48) % 4096, n % 2^48)
end

local function instance_id()
   counter = counter + 1
   return "uuid:" .. uuid_for(counter)
end

local XML_BODY = '<start>2026-11-20T09:00:00.000+08:00</start>'
   .. '<end>2026-11-20T09:05:00.000+08:00</end><deviceid>bench</deviceid><household_no>12</household_no>'
   .. '<head_name>王秀英</head_name><visit_date>2026-11-20</visit_date><outcome>completed</outcome>'
   .. '<photo/><needs/><meta><instanceID>'
local XML_TAIL = '</instanceID></meta></data>'

local PART_HEADERS = 'Content-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n'
   .. "Content-Type: text/xml\r\n\r\n"

local function head_request()
   return wrk.format("HEAD", wrk.path, headers(), nil)
end

local function post_request()
   local id = instance_id()
   -- ODK Collect (OkHttp's MultipartBody) sends a random UUID as the boundary of every request.
   local boundary = fixed_boundary and "c0ffee00-0000-4000-8000-000000000000" or string.sub(id, 6)
   local h = headers()
   h["Content-Type"] = "multipart/form-data; boundary=" .. boundary
   local xml_head = '<?xml version="1.0"?><data id="household_visit" version="' .. form_version .. '" '
      .. 'xmlns:orx="http://openrosa.org/xforms">'
   local body = "--" .. boundary .. "\r\n" .. PART_HEADERS .. xml_head .. XML_BODY .. id .. XML_TAIL
      .. "\r\n--" .. boundary .. "--\r\n"
   return wrk.format("POST", wrk.path .. "?deviceID=bench", h, body)
end

function request()
   if not verified and thread_id == 1 then
      -- wrk 4.x calls request() once in the first thread's state before the run, to check the script's
      -- output; that request is never sent, so it is not counted.
      verified = true
      return head_request()
   end
   if pending_posts > 0 and now() < drain_at then
      pending_posts = pending_posts - 1
      posts_sent = posts_sent + 1
      return post_request()
   end
   -- After the window only HEADs go out, until this thread's last POST is answered (see `response`).
   heads_sent = heads_sent + 1
   return head_request()
end

function response(status, headers, body)
   responses = responses + 1
   local in_window = now() < drain_at
   if in_window then
      win_responses = win_responses + 1
   else
      drain_responses = drain_responses + 1
   end
   if status == 204 then
      heads_204 = heads_204 + 1
      if in_window then
         pending_posts = pending_posts + 1
      end
   elseif status == 201 then
      posts_201 = posts_201 + 1
      if in_window then
         win_201 = win_201 + 1
      end
   else
      others = others + 1
      other_by_status[status] = (other_by_status[status] or 0) + 1
      local parts = {}
      for code, count in pairs(other_by_status) do
         parts[#parts + 1] = tostring(code) .. ":" .. tostring(count)
      end
      other_statuses = table.concat(parts, " ")
      if others <= 3 then
         other_samples = other_samples .. tostring(status) .. " " .. string.sub(body or "", 1, 300) .. "\30"
      end
   end
   if not in_window and not stopped and posts_sent - posts_201 - others <= 0 then
      -- Window over and every POST of this thread answered: stop this thread's event loop, so no further
      -- request is timed (wrk itself ends after -d). A POST still unanswered when wrk ends is reported.
      stopped = true
      wrk.thread:stop()
   end
end

-- ---- main Lua state again: sum the threads, print for humans and for bench/ingest.py -------------------

local function json_string(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local keys = { "heads_sent", "posts_sent", "responses", "heads_204", "posts_201", "others", "win_201",
                  "win_responses", "drain_responses" }
   local total = {}
   for _, k in ipairs(keys) do total[k] = 0 end
   local statuses, samples = {}, {}
   for _, thread in ipairs(threads) do
      for _, k in ipairs(keys) do
         total[k] = total[k] + (thread:get(k) or 0)
      end
      local s = thread:get("other_statuses")
      if s and s ~= "" then statuses[#statuses + 1] = s end
      local b = thread:get("other_samples")
      if b and b ~= "" then samples[#samples + 1] = b end
   end
   local e = summary.errors
   io.write(string.format(
      "HEAD sent %d (204: %d), POST sent %d (201: %d), unexpected answers %d%s; socket errors: "
      .. "connect %d, read %d, write %d, timeout %d\n",
      total.heads_sent, total.heads_204, total.posts_sent, total.posts_201, total.others,
      #statuses > 0 and (" [" .. table.concat(statuses, " ") .. "]") or "",
      e.connect, e.read, e.write, e.timeout))
   if #samples > 0 then
      io.write("unexpected answers (first bodies):\n" .. string.gsub(table.concat(samples, ""), "\30", "\n"))
   end
   local fields = {}
   for _, k in ipairs(keys) do
      fields[#fields + 1] = string.format('"%s": %d', k, total[k])
   end
   for _, p in ipairs({ 50, 90, 95, 99 }) do
      fields[#fields + 1] = string.format('"p%d_us": %d', p, latency:percentile(p))
   end
   fields[#fields + 1] = string.format('"mean_us": %.1f', latency.mean)
   fields[#fields + 1] = string.format('"max_us": %d', latency.max)
   fields[#fields + 1] = string.format('"duration_us": %d', summary.duration)
   fields[#fields + 1] = string.format('"requests": %d', summary.requests)
   fields[#fields + 1] = string.format('"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, '
      .. '"status": %d}', e.connect, e.read, e.write, e.timeout, e.status)
   fields[#fields + 1] = '"other_statuses": ' .. json_string(table.concat(statuses, " "))
   fields[#fields + 1] = '"other_samples": ' .. json_string(table.concat(samples, ""))
   io.write("INGEST_RESULT {" .. table.concat(fields, ", ") .. "}\n")
end
