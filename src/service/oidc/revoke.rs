//! Token revocation (RFC 7009). Unknown, foreign or already invalid tokens answer 200 too
//! (§2.2), so the endpoint tells a caller nothing about tokens it does not own.

use chrono::Utc;
use diesel::Connection;
use serde_json::json;

use super::client_auth::{self, Presented};
use super::tokens::{ACCESS_TYP, AccessClaims, REFRESH_TYP, RefreshClaims};
use crate::crypto::jwt::{self, Expect};
use crate::db::{DbError, repo};
use crate::error::OAuthError;
use crate::startup::AppState;

pub async fn revoke(state: &AppState, token: Option<String>, presented: Presented) -> Result<(), OAuthError> {
    let client = client_auth::authenticate(&state.db, presented, true).await?;
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let keys = state.keys.current();
    let issuer = state.settings.issuer.as_str();
    let refresh: Option<RefreshClaims> = jwt::verify(
        &keys,
        &token,
        &Expect {
            typ: REFRESH_TYP,
            issuer,
            audience: Some(&client.id),
        },
    )
    .ok();
    let access: Option<AccessClaims> = jwt::verify(
        &keys,
        &token,
        &Expect {
            typ: ACCESS_TYP,
            issuer,
            audience: None,
        },
    )
    .ok()
    .filter(|c: &AccessClaims| c.client_id == client.id);
    let client_id = client.id.clone();
    state
        .db
        .run(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = Utc::now().naive_utc();
                if let Some(claims) = refresh
                    && let Some(row) = repo::refresh_tokens::find(conn, &crate::crypto::hash_secret(&claims.jti))?
                    && row.client_id == client_id
                {
                    let n = repo::refresh_tokens::revoke_family(conn, &row.family_id, now)?;
                    let detail = json!({ "token": "refresh_token", "family": row.family_id, "revoked": n });
                    repo::audit::insert(
                        conn,
                        &crate::service::audit::event("token.revoked", &client_id, Some(&row.user_id), detail),
                    )?;
                }
                if let Some(claims) = access
                    && let Some(exp) = chrono::DateTime::from_timestamp(claims.exp, 0)
                {
                    repo::revoked::deny(conn, &claims.jti, exp.naive_utc())?;
                    let detail = json!({ "token": "access_token", "jti": claims.jti });
                    repo::audit::insert(
                        conn,
                        &crate::service::audit::event("token.revoked", &client_id, Some(&claims.sub), detail),
                    )?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(())
}
