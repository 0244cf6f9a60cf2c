-- Chained refresh_token grant for wrk: each request uses a refresh token returned by an earlier response of the
-- same wrk thread (a pool per thread; a 200 returns exactly one new token, so the pool never runs dry).
-- Usage: wrk -t T -c C -s refresh.lua URL -- T CLIENT_ID CLIENT_SECRET TOKEN...   (C tokens in all)
local next_index = 0

function setup(thread)
  -- Sets a global in the thread's own Lua state (a top-level local there would shadow it).
  thread:set("thread_index", next_index)
  next_index = next_index + 1
end

function init(args)
  local threads = tonumber(args[1])
  client_id = args[2]
  client_secret = args[3]
  pool = {}
  for i = 4, #args do
    if (i - 4) % threads == thread_index then table.insert(pool, args[i]) end
  end
  failures = 0
end

function request()
  local token = table.remove(pool) or "exhausted"
  local body = "grant_type=refresh_token&refresh_token=" .. token .. "&client_id=" .. client_id ..
               "&client_secret=" .. client_secret .. "&scope=bolt.account.view"
  return wrk.format("POST", "/v1/oauth/token", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if status == 200 and token then
    table.insert(pool, token)
  else
    failures = failures + 1
    if failures <= 3 then io.stderr:write(status .. " " .. body .. "\n") end
  end
end
