-- bench/pipeline.lua: wrk script for HTTP/1.1 pipelining, used by bench/run.mjs.
--
--   wrk -t1 -c50 -d5s -s bench/pipeline.lua http://127.0.0.1:PORT/ -- 16
--
-- Every write sends DEPTH (default 16) GET / requests back to back; wrk counts the requests in
-- the string and writes the next batch once all DEPTH responses are in, so each connection keeps
-- up to DEPTH requests in flight. wrk counts every response in "Requests/sec"; its latency
-- figures are one sample per batch (time to the last response of the batch).

local req

init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format("GET", "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end
