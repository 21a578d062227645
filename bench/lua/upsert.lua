-- (b) POST {"key": <unique>}: one INSERT ... ON CONFLICT per request, always a new row.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
   counter = counter + 1
   return wrk.format(nil, nil, nil,
      '{"key":"' .. tag .. "-" .. tid .. "-" .. counter .. '"}')
end
