-- wrk script: a login storm, each request logging in one of the 10,000 seeded accounts
-- (user1..user10000@bench.local, password Bench12345) at random.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
  local body = string.format('{"email":"user%d@bench.local","password":"Bench12345"}', math.random(1, 10000))
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
