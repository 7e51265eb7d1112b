-- wrk script: POST /v1/sessions, a new user every request (USERS_PER_SESSION=1) or shared users,
-- with DATA_BYTES of data.
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end
function init(args)
  thread_id = id or 0
  data = string.rep("x", tonumber(os.getenv("DATA_BYTES") or "200") - 8)
  per_user = tonumber(os.getenv("SESSIONS_PER_USER") or "1")
  run = os.getenv("RUN_ID") or "r"
end
function request()
  counter = counter + 1
  local user = run .. "-" .. thread_id .. "-" .. math.floor(counter / per_user)
  local body = '{"user_id":"' .. user .. '","data":{"v":"' .. data .. '"}}'
  return wrk.format("POST", "/v1/sessions", {
    ["Authorization"] = "Bearer " .. os.getenv("API_KEY"),
    ["Content-Type"] = "application/json",
  }, body)
end
