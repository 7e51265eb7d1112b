-- wrk script: GET /v1/session with tokens read from $TOKENS_FILE, round-robin.
local tokens = {}
local index = 0
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
  index = math.random(#tokens)
end
function request()
  index = index % #tokens + 1
  return wrk.format("GET", "/v1/session", {
    ["Authorization"] = "Bearer " .. os.getenv("API_KEY"),
    ["X-Session-Token"] = tokens[index],
  })
end
