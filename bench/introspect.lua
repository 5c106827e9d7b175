-- wrk script of bench/run.sh: RFC 7662 introspection of one access token.
--   INTROSPECT_TOKEN  the access token to introspect
--   INTROSPECT_AUTH   the Authorization header value (client_secret_basic)
local token = os.getenv("INTROSPECT_TOKEN") or error("INTROSPECT_TOKEN is not set")
local auth = os.getenv("INTROSPECT_AUTH") or error("INTROSPECT_AUTH is not set")

wrk.method = "POST"
wrk.body = "token=" .. token .. "&token_type_hint=access_token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = auth
