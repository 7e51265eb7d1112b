-- wrk script: GET /v1/auth?audience=orders (gateway forward-auth) with the session cookie from $TOKENS_FILE.
local tokens = {}
local index = 0
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
  index = math.random(#tokens)
end
function request()
  index = index % #tokens + 1
  return wrk.format("GET", "/v1/auth?audience=orders", {
    ["Authorization"] = "Bearer " .. os.getenv("API_KEY"),
    ["Cookie"] = "__Host-sid=" .. tokens[index],
  })
end
