//! Small request readers shared by handlers.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::OAuthError;
use crate::service::oidc::client_auth::{Presented, parse_basic};
use crate::service::sessions::Origin;
use crate::startup::AppState;

/// Name/value pairs of a query string or form body, repeats kept (they are errors to report).
pub fn pairs(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// The form body of a protocol POST; RFC 6749 §3.2 requires form encoding.
pub fn form_pairs(req: &HttpRequest, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Ok(pairs(body))
}

/// Takes the client credentials out of the form and the `Authorization` header.
pub fn client_credentials(req: &HttpRequest, params: &mut Vec<(String, String)>) -> Presented {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic);
    let mut take = |name: &str| {
        let pos = params.iter().position(|(k, _)| k == name)?;
        Some(params.remove(pos).1)
    };
    let form_client_id = take("client_id");
    let form_client_secret = take("client_secret");
    Presented {
        basic,
        form_client_id,
        form_client_secret,
    }
}

/// The client's address (the forwarded one only from a trusted proxy) and user agent.
pub fn origin(req: &HttpRequest, state: &AppState) -> Origin {
    let peer = req.peer_addr().map(|a| a.ip());
    let trusted = peer.is_some_and(|ip| state.settings.trusted_proxies.contains(&ip));
    let ip = if trusted {
        req.connection_info().realip_remote_addr().map(str::to_owned)
    } else {
        peer.map(|ip| ip.to_string())
    };
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Origin { ip, user_agent }
}
