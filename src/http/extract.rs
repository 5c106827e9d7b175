//! Small request readers shared by handlers.

use actix_web::HttpRequest;
use actix_web::http::header;
use std::net::IpAddr;

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
    let forwarded_for = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = client_ip(
        req.peer_addr().map(|a| a.ip()),
        forwarded_for,
        &state.settings.trusted_proxies,
    )
    .map(|ip| ip.to_string());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Origin { ip, user_agent }
}

/// The address of the client: the socket peer, unless the peer is a trusted proxy. Then
/// `X-Forwarded-For` is read from the right, skipping trusted proxies: each proxy appends
/// what it saw, so only the entries added by our own proxies can be believed, and everything
/// to the left of the first untrusted hop is whatever the client chose to send.
fn client_ip(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut nearest = peer;
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            return Some(nearest);
        };
        nearest = ip;
        if !trusted.contains(&ip) {
            break;
        }
    }
    Some(nearest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Not a proxy: the header is ignored.
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), Some("1.2.3.4"), &proxies),
            Some(ip("203.0.113.9"))
        );
        // Through one proxy: the address it appended.
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), Some("198.51.100.7"), &proxies),
            Some(ip("198.51.100.7"))
        );
        // A client forging the header: its fake entry stays to the left of the real one.
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), Some("1.1.1.1, 198.51.100.7"), &proxies),
            Some(ip("198.51.100.7"))
        );
        // Two of our proxies in a row.
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), Some("1.1.1.1, 198.51.100.7, 10.0.0.1"), &proxies),
            Some(ip("198.51.100.7"))
        );
        // A garbled entry: stop at the last address we could trust.
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), Some("junk"), &proxies),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(client_ip(Some(ip("10.0.0.1")), None, &proxies), Some(ip("10.0.0.1")));
    }
}
