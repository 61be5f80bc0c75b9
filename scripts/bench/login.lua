-- wrk script: POST a login with the benchmark administrator's credentials.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@bantu.local","password":"Bench12345"}'
