-- wrk script: one request per session token from $TOKENS_FILE, round-robin. $REQUEST picks it:
--   resolve (default)  GET /v1/session with X-Session-Token
--   exchange           POST /v1/session/token {"audience":"orders"} with X-Session-Token
--   auth               GET /v1/auth?audience=orders with the token in the session cookie
local tokens = {}
local index = 0
local kind = os.getenv("REQUEST") or "resolve"
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
  index = math.random(#tokens)
end
function request()
  index = index % #tokens + 1
  local authorization = "Bearer " .. os.getenv("API_KEY")
  if kind == "exchange" then
    return wrk.format("POST", "/v1/session/token", {
      ["Authorization"] = authorization,
      ["X-Session-Token"] = tokens[index],
      ["Content-Type"] = "application/json",
    }, '{"audience":"orders"}')
  elseif kind == "auth" then
    return wrk.format("GET", "/v1/auth?audience=orders", {
      ["Authorization"] = authorization,
      ["Cookie"] = "__Host-sid=" .. tokens[index],
    })
  end
  return wrk.format("GET", "/v1/session", {
    ["Authorization"] = authorization,
    ["X-Session-Token"] = tokens[index],
  })
end
