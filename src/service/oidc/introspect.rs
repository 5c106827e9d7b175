//! Token introspection (RFC 7662): `{"active": false}` for anything not currently valid,
//! with no reason given (§2.2).

use chrono::Utc;
use serde_json::{Value, json};

use super::client_auth::{self, Presented};
use super::tokens::{REFRESH_TYP, RefreshClaims};
use crate::crypto::jwt::{self, Expect};
use crate::db::repo;
use crate::error::OAuthError;
use crate::service::clients::Client;
use crate::startup::AppState;

pub async fn introspect(state: &AppState, token: Option<String>, presented: Presented) -> Result<Value, OAuthError> {
    let claimed = client_auth::claimed(presented)?;
    // The client and, for an access token (the usual question), its revocation and user
    // are read in one trip to the database.
    let access = token.as_deref().map(|t| super::userinfo::verify_access_token(state, t));
    let lookup = match &access {
        Some(Ok(claims)) => Some((claims.jti.clone(), super::userinfo::user_of(claims))),
        _ => None,
    };
    let client_id = claimed.id.clone();
    let (found, loaded) = state
        .db
        .run(move |conn| {
            let found = repo::clients::find(conn, &client_id)?;
            // Nothing about the token is read for a client that does not exist.
            let loaded = match (&found, lookup) {
                (Some(_), Some((jti, user))) => Some(super::userinfo::load_access(conn, &jti, user.as_deref())?),
                _ => None,
            };
            Ok((found, loaded))
        })
        .await?;
    // Only confidential clients (resource servers) may introspect.
    let client = client_auth::check(&claimed, found.map(Client::from), false)?;
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let inactive = json!({ "active": false });
    if let (Some(Ok(c)), Some((denied, user))) = (access, loaded)
        && let Ok(checked) = super::userinfo::accept_access(c, denied, user)
    {
        let c = checked.claims;
        let mut out = json!({
            "active": true, "token_type": "Bearer", "scope": c.scope, "client_id": c.client_id,
            "sub": c.sub, "aud": c.aud, "iss": c.iss, "exp": c.exp, "iat": c.iat, "nbf": c.nbf, "jti": c.jti,
        });
        if let Some(user) = checked.user {
            out["username"] = json!(user.email);
        }
        return Ok(out);
    }
    let expect = Expect {
        typ: REFRESH_TYP,
        issuer: &state.settings.issuer,
        audience: Some(&client.id),
    };
    let Ok(claims) = jwt::verify::<RefreshClaims>(&state.keys.current(), &token, &expect) else {
        return Ok(inactive);
    };
    let jti_hash = crate::crypto::hash_secret(&claims.jti);
    let live = state
        .db
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            let Some(row) = repo::refresh_tokens::find(conn, &jti_hash)? else {
                return Ok(None);
            };
            if row.used_at.is_some() || row.revoked_at.is_some() || row.expires_at <= now {
                return Ok(None);
            }
            if let Some(sid) = &row.session_id
                && repo::sessions::find_live(conn, sid, now)?.is_none()
            {
                return Ok(None);
            }
            Ok(repo::users::find_by_id(conn, &row.user_id)?
                .filter(|u| !u.disabled)
                .map(|u| (row, u)))
        })
        .await?;
    Ok(match live {
        Some((row, user)) => json!({
            "active": true, "token_type": "refresh_token", "scope": row.scope, "client_id": row.client_id,
            "sub": claims.sub, "aud": claims.aud, "iss": claims.iss, "exp": claims.exp, "iat": claims.iat,
            "jti": claims.jti, "username": user.email,
        }),
        None => inactive,
    })
}
