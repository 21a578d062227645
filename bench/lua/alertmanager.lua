-- (e) Alertmanager webhook (payload version 4) of args[2] alerts spread over args[3]
-- services; every alert has a fingerprint unique to this request, so every batch inserts.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function scenario_init(args)
   alerts_per_request = tonumber(args[2] or "100")
   services = tonumber(args[3] or "5")
end

local head = '{"version":"4","status":"firing","receiver":"x","groupLabels":{},'
   .. '"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",'
   .. '"groupKey":"k","truncatedAlerts":0,"alerts":['

function request()
   counter = counter + 1
   local id = tag .. "-" .. tid .. "-" .. counter
   local alerts = {}
   for i = 1, alerts_per_request do
      local job = "am-svc-" .. ((i - 1) % services)
      alerts[i] = '{"status":"firing","labels":{"alertname":"HighErrorRate' .. i
         .. '","job":"' .. job .. '","severity":"critical"},'
         .. '"annotations":{"summary":"Error rate high on ' .. job .. ' (' .. id .. ')"},'
         .. '"startsAt":"2026-11-26T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",'
         .. '"generatorURL":"http://p","fingerprint":"' .. id .. "-" .. i .. '"}'
   end
   return wrk.format(nil, nil, nil, head .. table.concat(alerts, ",") .. "]}")
end
