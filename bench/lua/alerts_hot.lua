-- (d) POST /api/v1/alerts, one hot service (args[2]), a different summary each time:
-- every alert has a new fingerprint and attaches to the service's one open incident.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function scenario_init(args)
   service = args[2] or "checkout"
end

function request()
   counter = counter + 1
   local id = tag .. "-" .. tid .. "-" .. counter
   return wrk.format(nil, nil, nil,
      '{"service":"' .. service .. '","summary":"Latency above SLO, probe ' .. id .. '",'
         .. '"severity":"critical","labels":{"env":"bench"}}')
end
