-- (x) POST /api/v1/alerts, firing and resolving: request 2k fires alert k, request 2k+1
-- resolves it (same fingerprint), over args[2] services per thread, so incidents open,
-- take more alerts, auto-resolve when their last alert resolves, and open again.
-- A thread's connections run concurrently: a resolve may overtake its firing alert.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function scenario_init(args)
   services = tonumber(args[2] or "20")
end

function request()
   counter = counter + 1
   local pair = math.floor((counter - 1) / 2)
   local status = (counter % 2 == 1) and "firing" or "resolved"
   local service = "mix-" .. tag .. "-" .. tid .. "-" .. (pair % services)
   return wrk.format(nil, nil, nil,
      '{"service":"' .. service .. '","summary":"Queue depth high",'
         .. '"fingerprint":"mix-' .. tag .. "-" .. tid .. "-" .. pair .. '",'
         .. '"status":"' .. status .. '","severity":"critical","labels":{"env":"bench"}}')
end
