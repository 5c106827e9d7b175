//! `client_credentials` (RFC 6749 §4.4): a confidential client acting for itself.

use std::collections::HashMap;

use serde_json::json;

use super::{TokenResponse, audience};
use crate::domain::Scope;
use crate::error::OAuthError;
use crate::service::clients::Client;
use crate::service::oidc::tokens::{self, Grant, ProfileClaims};
use crate::startup::AppState;

pub async fn exchange(
    state: &AppState,
    client: Client,
    params: HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    if client.public {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        ));
    }
    let scope = Scope::parse(params.get("scope").map(String::as_str).unwrap_or(""))
        .map_err(|e| OAuthError::invalid_scope(e.0))?;
    // The client's allowed scopes: others are dropped (`Client::permitted_scope`).
    let scope = client
        .permitted_scope(scope)
        .ok_or_else(|| OAuthError::invalid_scope("none of the requested scopes is allowed for this client"))?;
    // The user scopes mean nothing without a user.
    if scope
        .iter()
        .any(|s| matches!(s, "openid" | "offline_access" | "profile" | "email"))
    {
        return Err(OAuthError::invalid_scope(
            "client_credentials tokens carry no user scopes",
        ));
    }
    let aud = audience(&client, params.get("resource").map(String::as_str))?;
    let settings = &state.settings;
    let unsigned = tokens::prepare(Grant {
        issuer: &settings.issuer,
        client_id: &client.id,
        subject: &client.id,
        audience: &aud,
        scope: &scope,
        profile: ProfileClaims::default(),
        session_id: None,
        auth_time: None,
        nonce: None,
        // The client's own lifetime when the admin console set one.
        access_ttl: client.access_ttl(settings.lifetimes.access_token),
        id_ttl: settings.lifetimes.id_token,
        refresh_ttl: None,
        with_id_token: false,
    });
    let event = crate::service::audit::event(
        "token.issued",
        &client.id,
        Some(&client.id),
        json!({ "grant": "client_credentials", "jti": unsigned.access_jti() }),
    );
    let minted = unsigned.sign_off_thread(state.keys.current()).await?;
    state
        .db
        .run_write(move |conn| Ok(crate::db::repo::audit::insert(conn, &event)?))
        .await?;
    Ok(TokenResponse::new(minted, &scope))
}
