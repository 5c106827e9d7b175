//! The token endpoint (RFC 6749 §3.2): one file per grant type.

mod authorization_code;
mod client_credentials;
mod refresh_token;

use std::collections::HashMap;

use serde::Serialize;

use super::TxError;
use super::client_auth::{self, Presented};
use super::tokens::{self, Grant, Minted, ProfileClaims, Unsigned};
use crate::config::Settings;
use crate::db::DbConn;
use crate::db::models::{RefreshRow, UserRow};
use crate::db::repo;
use crate::domain::Scope;
use crate::error::OAuthError;
use crate::service::clients::Client;
use crate::startup::AppState;

/// RFC 6749 §5.1 successful response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

impl TokenResponse {
    fn new(minted: Minted, scope: &Scope) -> TokenResponse {
        TokenResponse {
            access_token: minted.access_token,
            token_type: "Bearer",
            expires_in: minted.expires_in,
            refresh_token: minted.refresh_token,
            id_token: minted.id_token,
            scope: scope.to_string(),
        }
    }
}

/// Handles a token request: parameters (client credentials removed into `presented`).
pub async fn exchange(
    state: &AppState,
    params: Vec<(String, String)>,
    presented: Presented,
) -> Result<TokenResponse, OAuthError> {
    let mut map: HashMap<String, String> = HashMap::new();
    for (k, v) in params {
        // RFC 6749 §3.2: parameters must not be repeated.
        if map.insert(k.clone(), v).is_some() {
            return Err(OAuthError::invalid_request(format!("parameter {k} is repeated")));
        }
    }
    let grant_type = map
        .remove("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if !matches!(
        grant_type.as_str(),
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant_type {grant_type:?} is not supported"),
        ));
    }
    let client = client_auth::authenticate(&state.db, presented, true).await?;
    if !client.allows_grant(&grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use the {grant_type} grant"
        )));
    }
    match grant_type.as_str() {
        "authorization_code" => authorization_code::exchange(state, client, map).await,
        "refresh_token" => refresh_token::exchange(state, client, map).await,
        _ => client_credentials::exchange(state, client, map).await,
    }
}

/// The audience of an access token: the requested resource if the client registered it
/// (RFC 8707), else the client itself.
fn audience(client: &crate::service::clients::Client, resource: Option<&str>) -> Result<String, OAuthError> {
    match resource {
        Some(r) if client.resources.iter().any(|x| x == r) => Ok(r.to_owned()),
        Some(_) => Err(OAuthError::new(
            "invalid_target",
            "resource is not registered for this client",
        )),
        None => Ok(client.id.clone()),
    }
}

/// What a user grant carries from its code or its previous refresh token.
struct UserGrant<'a> {
    user: &'a UserRow,
    /// The scope granted at authorization; `scope` below may be narrower.
    granted: &'a str,
    scope: &'a Scope,
    session_id: Option<&'a str>,
    resource: Option<&'a str>,
    auth_time: chrono::NaiveDateTime,
    nonce: Option<&'a str>,
    /// `Some(family)` to continue a family, `None` to start one (when `refresh` is true).
    family: Option<&'a str>,
    refresh: bool,
}

/// Decides a user's tokens and, when a refresh token is issued, records it (hashed) in its
/// family together with the access token's `jti`, so revoking the family reaches both.
/// Runs inside the grant's transaction; the caller signs after it commits. Returns the
/// unsigned tokens and the family.
fn issue_for_user(
    conn: &mut DbConn,
    settings: &Settings,
    client: &Client,
    g: UserGrant<'_>,
) -> Result<(Unsigned, Option<String>), TxError> {
    let lifetimes = &settings.lifetimes;
    let aud = audience(client, g.resource)?;
    let unsigned = tokens::prepare(Grant {
        issuer: &settings.issuer,
        client_id: &client.id,
        subject: &g.user.id,
        audience: &aud,
        scope: g.scope,
        profile: ProfileClaims::for_user(g.user, g.scope),
        session_id: g.session_id,
        auth_time: Some(g.auth_time),
        nonce: g.nonce,
        // The client's own lifetimes when the admin console set them; `expires_in`,
        // `exp` and the stored refresh row all follow from these.
        access_ttl: client.access_ttl(lifetimes.access_token),
        id_ttl: lifetimes.id_token,
        refresh_ttl: g.refresh.then(|| client.refresh_ttl(lifetimes.refresh_token)),
        with_id_token: g.scope.contains("openid"),
    });
    let Some((jti, expires_at)) = unsigned.refresh() else {
        return Ok((unsigned, None));
    };
    let family = g
        .family
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let now = chrono::Utc::now().naive_utc();
    let row = RefreshRow {
        jti_hash: crate::crypto::hash_secret(jti),
        family_id: family.clone(),
        client_id: client.id.clone(),
        user_id: g.user.id.clone(),
        session_id: g.session_id.map(str::to_owned),
        // The family keeps the original grant, so a later refresh may widen back to it.
        scope: g.granted.to_owned(),
        resource: g.resource.map(str::to_owned),
        auth_time: g.auth_time,
        access_jti: unsigned.access_jti().to_owned(),
        access_expires_at: unsigned.access_expires_at(),
        created_at: now,
        expires_at,
        used_at: None,
        revoked_at: None,
    };
    repo::refresh_tokens::insert(conn, &row)?;
    Ok((unsigned, Some(family)))
}
