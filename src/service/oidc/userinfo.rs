//! The UserInfo endpoint (OIDC Core §5.3) and the access token check it shares with
//! introspection.

use serde_json::{Map, Value, json};

use super::tokens::{ACCESS_TYP, AccessClaims};
use crate::crypto::jwt::{self, Expect};
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
    let expect = Expect {
        typ: ACCESS_TYP,
        issuer: &state.settings.issuer,
        audience: None,
    };
    let claims: AccessClaims = jwt::verify(&state.keys.current(), token, &expect)
        .map_err(|_| OAuthError::invalid_token("the access token is invalid"))?;
    let (jti, sub, for_user) = (claims.jti.clone(), claims.sub.clone(), claims.sub != claims.client_id);
    let (denied, user) = state
        .db
        .run(move |conn| {
            let denied = repo::revoked::is_denied(conn, &jti)?;
            let user = if for_user && !denied {
                repo::users::find_by_id(conn, &sub)?
            } else {
                None
            };
            Ok((denied, user))
        })
        .await?;
    if denied {
        return Err(OAuthError::invalid_token("the access token has been revoked"));
    }
    if for_user && user.as_ref().is_none_or(|u| u.disabled) {
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
