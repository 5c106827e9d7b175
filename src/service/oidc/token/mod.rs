//! The token endpoint (RFC 6749 §3.2): one file per grant type.

mod authorization_code;
mod client_credentials;
mod refresh_token;

use std::collections::HashMap;

use serde::Serialize;

use super::client_auth::{self, Presented};
use super::tokens::Minted;
use crate::domain::Scope;
use crate::error::OAuthError;
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
