-- wrk script: POST the bodies of a file in turn on keep-alive connections, then print a summary.
-- Arguments (after wrk's "--"): the bodies file (each body: its length, a newline, the bytes) and
-- the request path. The requests are formatted once, in init, so wrk's own cost stays small.
local requests_ = {}
local index = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local position = 1
  while position <= #data do
    local newline = data:find("\n", position, true)
    local length = tonumber(data:sub(position, newline - 1))
    local body = data:sub(newline + 1, newline + length)
    requests_[#requests_ + 1] = wrk.format("POST", args[2], {}, body)
    position = newline + length + 1
  end
  index = math.random(#requests_)
end

function request()
  index = index % #requests_ + 1
  return requests_[index]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH_RESULT {\"requests\": %d, \"duration_us\": %d, \"status_errors\": %d, " ..
    "\"socket_errors\": %d, \"timeouts\": %d, \"p50_us\": %d, \"p90_us\": %d, " ..
    "\"p99_us\": %d, \"max_us\": %d}\n",
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
