-- wrk script: every request takes the next path from a file (one path per line), so each
-- connection sends the whole query mix in turn, starting at a different place.
-- Usage: wrk -s bench/search_mix.lua -H "HX-Request: true" http://127.0.0.1:PORT -- paths.txt
local paths = {}
local position = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  file:close()
  position = math.random(#paths)
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end
