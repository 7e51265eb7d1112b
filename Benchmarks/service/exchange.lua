-- wrk script: POST /v1/session/token (session → access token) with tokens from $TOKENS_FILE, round-robin.
local tokens = {}
local index = 0
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
  index = math.random(#tokens)
end
function request()
  index = index % #tokens + 1
  return wrk.format("POST", "/v1/session/token", {
    ["Authorization"] = "Bearer " .. os.getenv("API_KEY"),
    ["X-Session-Token"] = tokens[index],
    ["Content-Type"] = "application/json",
  }, '{"audience":"orders"}')
end
