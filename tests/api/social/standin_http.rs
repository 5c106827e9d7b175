//! HTTP pieces both upstream stand-ins need: a one-worker server, PKCE and client
//! credential checks, and redirects that keep the callback's own query.

use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use url::Url;

/// Serves the routes on the listener with one worker (handlers never block, `Slow` sleeps
/// asynchronously) and no signal handling, which belongs to the test harness.
pub fn serve<F>(listener: TcpListener, routes: F) -> ServerHandle
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let server = HttpServer::new(move || App::new().configure(routes.clone()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    handle
}

/// RFC 7636 §4.6 with S256: BASE64URL(SHA256(verifier)) == challenge.
pub fn pkce_matches(verifier: Option<&String>, challenge: &str) -> bool {
    verifier.is_some_and(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == challenge)
}

/// HTTP Basic client credentials, each form-urlencoded before encoding (RFC 6749 §2.3.1).
pub fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// A 302 to `redirect` with `params` and `state` added to whatever query it already holds.
pub fn redirect_with(mut redirect: Url, params: &[(&str, &str)], state: Option<&str>) -> HttpResponse {
    {
        let mut query = redirect.query_pairs_mut();
        query.extend_pairs(params);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    HttpResponse::Found()
        .insert_header(("location", redirect.as_str()))
        .finish()
}
