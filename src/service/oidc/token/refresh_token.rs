//! `refresh_token` (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
//! every use spends the token and issues a new one; a spent token coming back revokes the
//! whole family, since either the client or an attacker holds a stolen copy.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::json;

use super::{TokenResponse, UserGrant, issue_for_user};
use crate::crypto::jwt::{self, Expect};
use crate::db::repo;
use crate::domain::Scope;
use crate::error::OAuthError;
use crate::service::clients::Client;
use crate::service::oidc::tokens::{REFRESH_TYP, RefreshClaims, Unsigned};
use crate::service::oidc::{TxError, run_tx};
use crate::startup::AppState;

enum Outcome {
    Issued(Box<Unsigned>, Scope),
    Reused,
}

pub async fn exchange(
    state: &AppState,
    client: Client,
    params: HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let token = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let requested = params
        .get("scope")
        .map(|s| Scope::parse(s).map_err(|e| OAuthError::invalid_scope(e.0)))
        .transpose()?;
    let expect = Expect {
        typ: REFRESH_TYP,
        issuer: &state.settings.issuer,
        audience: Some(&client.id),
    };
    let claims: RefreshClaims = jwt::verify(&state.keys.current(), token, &expect)
        .map_err(|_| OAuthError::invalid_grant("the refresh token is invalid"))?;
    let jti_hash = crate::crypto::hash_secret(&claims.jti);
    let settings = state.settings.clone();
    let outcome = run_tx(&state.db, move |conn| {
        let now = Utc::now().naive_utc();
        // One atomic UPDATE decides: of concurrent requests with this token exactly one
        // spends it; the first statement writes, so SQLite locks before it reads.
        if !repo::refresh_tokens::spend(conn, &jti_hash, now)? {
            let Some(row) = repo::refresh_tokens::find(conn, &jti_hash)? else {
                return Err(OAuthError::invalid_grant("the refresh token is invalid").into());
            };
            if row.revoked_at.is_some() {
                return Err(OAuthError::invalid_grant("the refresh token has been revoked").into());
            }
            // Concurrent replays of one token queue on its row, so only one at a time walks
            // (and revokes) the family: no deadlock between them on PostgreSQL.
            repo::refresh_tokens::lock(conn, &jti_hash)?;
            let revoked = repo::refresh_tokens::revoke_family(conn, &row.family_id, now)?;
            let detail = json!({ "client_id": row.client_id, "family": row.family_id, "revoked": revoked });
            repo::audit::insert(conn, &crate::service::audit::event("refresh.reuse_detected", &row.client_id, Some(&row.user_id), detail))?;
            return Ok(Outcome::Reused);
        }
        let Some(row) = repo::refresh_tokens::find(conn, &jti_hash)? else {
            return Err(OAuthError::invalid_grant("the refresh token is invalid").into());
        };
        let invalid = |why: &str| -> Result<Outcome, TxError> { Err(OAuthError::invalid_grant(why).into()) };
        if row.client_id != client.id {
            return invalid("the refresh token was issued to another client");
        }
        if row.expires_at <= now {
            return invalid("the refresh token has expired");
        }
        if let Some(sid) = &row.session_id
            && repo::sessions::find_live(conn, sid, now)?.is_none()
        {
            return invalid("the sign-in session has ended");
        }
        let user = match repo::users::find_by_id(conn, &row.user_id)? {
            Some(u) if !u.disabled => u,
            _ => return invalid("the user cannot sign in"),
        };
        let granted = Scope::from_stored(&row.scope);
        // RFC 6749 §6: a refresh may narrow the scope, never widen it.
        let scope = match requested {
            Some(s) if !s.is_subset(&granted) => {
                return Err(OAuthError::invalid_scope("the requested scope exceeds the original grant").into());
            }
            Some(s) => s,
            None => granted,
        };
        // Scopes an administrator has since removed from the client are dropped at the
        // next refresh, as at authorization (`Client::permitted_scope`).
        let Some(scope) = client.permitted_scope(scope) else {
            return Err(OAuthError::invalid_scope("none of the granted scopes is allowed for this client any more").into());
        };
        let grant = UserGrant {
            user: &user,
            granted: &row.scope,
            scope: &scope,
            session_id: row.session_id.as_deref(),
            resource: row.resource.as_deref(),
            auth_time: row.auth_time,
            nonce: None,
            family: Some(&row.family_id),
            refresh: true,
        };
        let (unsigned, _) = issue_for_user(conn, &settings, &client, grant)?;
        let detail = json!({ "grant": "refresh_token", "client_id": client.id, "jti": unsigned.access_jti(), "family": row.family_id });
        repo::audit::insert(conn, &crate::service::audit::event("token.issued", &user.id, Some(&user.id), detail))?;
        Ok(Outcome::Issued(Box::new(unsigned), scope))
    })
    .await?;
    match outcome {
        Outcome::Issued(unsigned, scope) => {
            let minted = unsigned.sign_off_thread(state.keys.current()).await?;
            Ok(TokenResponse::new(minted, &scope))
        }
        Outcome::Reused => Err(OAuthError::invalid_grant(
            "the refresh token was already used; its family is revoked",
        )),
    }
}
