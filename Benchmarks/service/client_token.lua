-- wrk script: POST /oauth2/token (client credentials, HTTP Basic from $BASIC).
function request()
  return wrk.format("POST", "/oauth2/token", {
    ["Authorization"] = "Basic " .. os.getenv("BASIC"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=client_credentials&scope=sessions:read")
end
