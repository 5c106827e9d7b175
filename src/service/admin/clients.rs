//! Admin console: clients. The changes themselves are `service::clients` (shared with the
//! CLI); this is what the console adds: the values an app developer needs to connect.

use crate::service::clients::ClientView;

/// What an application and its backend are configured with to use a client.
pub struct Integration {
    pub issuer: String,
    pub discovery_url: String,
    pub jwks_url: String,
    /// The resource the app asks tokens for (RFC 8707): the client's first registered one.
    pub resource: Option<String>,
    /// The `aud` of the access tokens the app then gets: that resource, else the client id.
    pub audience: String,
    /// Scopes an app should ask for: `openid` plus the profile scopes the client may have.
    pub scopes: String,
}

/// The developer-facing values of `client` at `issuer` (the public base URL).
pub fn integration(issuer: &str, client: &ClientView) -> Integration {
    let issuer = issuer.trim_end_matches('/').to_owned();
    let allowed = |s: &str| client.allowed_scopes.is_empty() || client.allowed_scopes.iter().any(|a| a == s);
    let scopes: Vec<&str> = ["openid", "profile", "email"]
        .into_iter()
        .filter(|s| allowed(s))
        .collect();
    Integration {
        discovery_url: format!("{issuer}/.well-known/openid-configuration"),
        jwks_url: format!("{issuer}/.well-known/jwks.json"),
        resource: client.resources.first().cloned(),
        audience: client
            .resources
            .first()
            .cloned()
            .unwrap_or_else(|| client.client_id.clone()),
        scopes: scopes.join(" "),
        issuer,
    }
}
