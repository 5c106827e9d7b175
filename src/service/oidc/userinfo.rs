//! The UserInfo endpoint (OIDC Core §5.3) and the access token check it shares with
//! introspection.

use serde_json::{Map, Value, json};

use super::tokens::{ACCESS_TYP, AccessClaims};
use crate::crypto::jwt::{self, Expect};
use crate::db::DbConn;
use crate::db::models::UserRow;
use crate::db::repo;
use crate::domain::Scope;
use crate::error::OAuthError;
use crate::startup::AppState;

/// A valid access token and, when it was issued for a user, that user.
pub struct Checked {
    pub claims: AccessClaims,
    pub user: Option<UserRow>,
}

/// Accepts only an RS256 access token signed by a published key, from this issuer, not
/// expired, not revoked, whose user (if any) still exists and is enabled.
pub async fn check_access_token(state: &AppState, token: &str) -> Result<Checked, OAuthError> {
    let claims = verify_access_token(state, token)?;
    let (jti, sub) = (claims.jti.clone(), user_of(&claims));
    let (denied, user) = state
        .db
        .run(move |conn| Ok(load_access(conn, &jti, sub.as_deref())?))
        .await?;
    accept_access(claims, denied, user)
}

/// The signature, type, issuer and expiry of an access token: no database.
pub fn verify_access_token(state: &AppState, token: &str) -> Result<AccessClaims, OAuthError> {
    let expect = Expect {
        typ: ACCESS_TYP,
        issuer: &state.settings.issuer,
        audience: None,
    };
    jwt::verify(&state.keys.current(), token, &expect)
        .map_err(|_| OAuthError::invalid_token("the access token is invalid"))
}

/// The user an access token was issued for; `None` for a client's own (client_credentials).
pub fn user_of(claims: &AccessClaims) -> Option<String> {
    (claims.sub != claims.client_id).then(|| claims.sub.clone())
}

/// Whether the token's `jti` was revoked, and its user's row (when it has one and is not).
pub fn load_access(
    conn: &mut DbConn,
    jti: &str,
    user_id: Option<&str>,
) -> diesel::QueryResult<(bool, Option<UserRow>)> {
    let denied = repo::revoked::is_denied(conn, jti)?;
    let user = match user_id {
        Some(id) if !denied => repo::users::find_by_id(conn, id)?,
        _ => None,
    };
    Ok((denied, user))
}

/// The verdict on a verified token from what [`load_access`] found.
pub fn accept_access(claims: AccessClaims, denied: bool, user: Option<UserRow>) -> Result<Checked, OAuthError> {
    if denied {
        return Err(OAuthError::invalid_token("the access token has been revoked"));
    }
    if user_of(&claims).is_some() && user.as_ref().is_none_or(|u| u.disabled) {
        return Err(OAuthError::invalid_token("the access token's user cannot sign in"));
    }
    Ok(Checked { claims, user })
}

/// The claims the token's scope grants, fresh from the user's row.
pub async fn userinfo(state: &AppState, token: &str) -> Result<Value, OAuthError> {
    let checked = check_access_token(state, token).await?;
    let scope = Scope::from_stored(&checked.claims.scope);
    let Some(user) = checked.user.filter(|_| scope.contains("openid")) else {
        return Err(OAuthError::new(
            "insufficient_scope",
            "the access token was not granted the openid scope",
        ));
    };
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id));
    if scope.contains("email") {
        out.insert("email".into(), json!(user.email));
        out.insert("email_verified".into(), json!(user.email_verified));
    }
    if scope.contains("profile") {
        out.insert("name".into(), json!(user.name));
    }
    if scope.contains("roles") {
        out.insert("roles".into(), json!(user.roles.split_whitespace().collect::<Vec<_>>()));
    }
    Ok(Value::Object(out))
}
