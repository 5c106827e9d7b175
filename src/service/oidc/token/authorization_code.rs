//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6): a code for tokens, exactly once.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::json;

use super::{TokenResponse, UserGrant, issue_for_user};
use crate::db::repo;
use crate::domain::Scope;
use crate::error::OAuthError;
use crate::service::clients::Client;
use crate::service::oidc::tokens::Unsigned;
use crate::service::oidc::{TxError, authorize::is_pkce_value, run_tx};
use crate::startup::AppState;

/// What a transaction found: tokens, or a replayed code that has now been revoked.
enum Outcome {
    Issued(Box<Unsigned>, Scope),
    Replayed,
}

pub async fn exchange(
    state: &AppState,
    client: Client,
    params: HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params.get("redirect_uri").cloned();
    let verifier = params.get("code_verifier").cloned();
    if verifier.as_deref().is_some_and(|v| !is_pkce_value(v)) {
        return Err(OAuthError::invalid_grant("code_verifier is malformed"));
    }
    let code_hash = crate::crypto::hash_secret(code);
    let resource = params.get("resource").cloned();
    let settings = state.settings.clone();
    let outcome = run_tx(&state.db, move |conn| {
        let now = Utc::now().naive_utc();
        // The spend comes first: the first statement writes, so SQLite takes its write lock
        // before reading (no stale snapshot), and two racing exchanges cannot both win.
        if !repo::codes::spend(conn, &code_hash, now)? {
            let Some(row) = repo::codes::find(conn, &code_hash)? else {
                return Err(OAuthError::invalid_grant("the code is invalid").into());
            };
            if row.client_id != client.id {
                return Err(OAuthError::invalid_grant("the code is invalid").into());
            }
            // RFC 9700 §4.14 / RFC 6749 §4.1.2: a replayed code revokes what it issued.
            // Concurrent replays queue on the code's row first.
            repo::codes::lock(conn, &code_hash)?;
            if let Some(family) = &row.family_id {
                repo::refresh_tokens::revoke_family(conn, family, now)?;
            }
            if let (Some(jti), Some(exp)) = (&row.access_jti, row.access_expires_at) {
                repo::revoked::deny(conn, jti, exp)?;
            }
            let detail = json!({ "client_id": row.client_id, "family": row.family_id });
            repo::audit::insert(conn, &crate::service::audit::event("code.replayed", &client.id, Some(&row.user_id), detail))?;
            return Ok(Outcome::Replayed);
        }
        let Some(row) = repo::codes::find(conn, &code_hash)? else {
            return Err(OAuthError::invalid_grant("the code is invalid").into());
        };
        let invalid = |why: &str| -> Result<Outcome, TxError> { Err(OAuthError::invalid_grant(why).into()) };
        if row.client_id != client.id {
            return invalid("the code was issued to another client");
        }
        if row.expires_at <= now {
            return invalid("the code has expired");
        }
        // RFC 6749 §4.1.3: redirect_uri must match when it was in the authorization request
        // (it always is here).
        if redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
            return invalid("redirect_uri does not match the authorization request");
        }
        match (&row.code_challenge, &verifier) {
            (Some(challenge), Some(v)) => {
                if !crate::crypto::pkce_s256_matches(v, challenge) {
                    return invalid("code_verifier does not match the code_challenge");
                }
            }
            (Some(_), None) => return invalid("code_verifier is required"),
            (None, Some(_)) => return invalid("code_verifier given but no code_challenge was sent"),
            (None, None) if client.public => return invalid("PKCE is required for public clients"),
            (None, None) => {}
        }
        if resource.as_ref().is_some_and(|r| Some(r) != row.resource.as_ref()) {
            return Err(OAuthError::new("invalid_target", "resource differs from the authorization request").into());
        }
        if repo::sessions::find_live(conn, &row.session_id, now)?.is_none() {
            return invalid("the sign-in session has ended");
        }
        let user = match repo::users::find_by_id(conn, &row.user_id)? {
            Some(u) if !u.disabled => u,
            _ => return invalid("the user cannot sign in"),
        };
        let scope = Scope::from_stored(&row.scope);
        let refresh = client.allows_grant("refresh_token") && (scope.contains("offline_access") || client.skip_consent);
        let grant = UserGrant {
            user: &user,
            granted: &row.scope,
            scope: &scope,
            session_id: Some(&row.session_id),
            resource: row.resource.as_deref(),
            auth_time: row.auth_time,
            nonce: row.nonce.as_deref(),
            family: None,
            refresh,
        };
        let (unsigned, family) = issue_for_user(conn, &settings, &client, grant)?;
        repo::codes::record_issued(conn, &code_hash, family.as_deref(), unsigned.access_jti(), unsigned.access_expires_at())?;
        let detail = json!({ "grant": "authorization_code", "client_id": client.id, "jti": unsigned.access_jti(), "family": family });
        repo::audit::insert(conn, &crate::service::audit::event("token.issued", &user.id, Some(&user.id), detail))?;
        Ok(Outcome::Issued(Box::new(unsigned), scope))
    })
    .await?;
    match outcome {
        Outcome::Issued(unsigned, scope) => {
            let minted = unsigned.sign_off_thread(state.keys.current()).await?;
            Ok(TokenResponse::new(minted, &scope))
        }
        Outcome::Replayed => Err(OAuthError::invalid_grant(
            "the code has already been used; tokens issued from it are revoked",
        )),
    }
}
