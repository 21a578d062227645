-- (c) POST /api/v1/alerts, each request a new service: every alert opens a new incident.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
   counter = counter + 1
   local id = tag .. "-" .. tid .. "-" .. counter
   return wrk.format(nil, nil, nil,
      '{"service":"svc-' .. id .. '","summary":"Error rate above 5% on ' .. id .. '",'
         .. '"severity":"critical","labels":{"env":"bench","instance":"' .. id .. '"}}')
end
