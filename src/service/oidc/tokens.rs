//! Minting tokens: the claims of DESIGN.md's token table, one RSA signature each.

use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::jwt;
use crate::crypto::keys::KeySet;
use crate::db::models::UserRow;
use crate::domain::Scope;

pub const ACCESS_TYP: &str = "at+jwt";
pub const REFRESH_TYP: &str = "refresh+jwt";
/// RFC 7515 §4.1.9 leaves `typ` for ID tokens to the application; OIDC clients expect `JWT`.
pub const ID_TYP: &str = "JWT";

/// RFC 9068 access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// `email`, `email_verified`, `name`, `roles` as the scope grants.
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// OIDC Core §2 ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub at_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `email`, `email_verified`, `name`, `roles` as the scope grants.
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// Refresh token: a JWT so it is self-describing, but only its stored `jti` makes it usable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// The user-dependent claims a scope grants (OIDC Core §5.4), shared by access and ID tokens.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl ProfileClaims {
    pub fn for_user(user: &UserRow, scope: &Scope) -> ProfileClaims {
        let email = scope.contains("email");
        ProfileClaims {
            email: email.then(|| user.email.clone()),
            email_verified: email.then_some(user.email_verified),
            name: scope.contains("profile").then(|| user.name.clone()),
            roles: scope
                .contains("roles")
                .then(|| user.roles.split_whitespace().map(str::to_owned).collect()),
        }
    }
}

/// What is being issued, by whom, for whom.
pub struct Grant<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The user's id, or the client id for client_credentials.
    pub subject: &'a str,
    pub audience: &'a str,
    pub scope: &'a Scope,
    pub profile: ProfileClaims,
    pub session_id: Option<&'a str>,
    pub auth_time: Option<NaiveDateTime>,
    pub nonce: Option<&'a str>,
    pub access_ttl: std::time::Duration,
    pub id_ttl: std::time::Duration,
    /// `Some(ttl)` to issue a refresh token.
    pub refresh_ttl: Option<std::time::Duration>,
    pub with_id_token: bool,
}

/// Signed tokens and what must be recorded about them.
pub struct Minted {
    pub access_token: String,
    pub access_jti: String,
    pub access_expires_at: NaiveDateTime,
    pub expires_in: u64,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub refresh_jti: Option<String>,
    pub refresh_expires_at: Option<NaiveDateTime>,
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

/// Signs the tokens of a grant with the active key.
pub fn mint(keys: &KeySet, g: Grant<'_>) -> anyhow::Result<Minted> {
    let now = Utc::now().timestamp();
    let access_exp = now + secs(g.access_ttl);
    let access = AccessClaims {
        iss: g.issuer.to_owned(),
        sub: g.subject.to_owned(),
        aud: g.audience.to_owned(),
        exp: access_exp,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: g.client_id.to_owned(),
        scope: g.scope.to_string(),
        sid: g.session_id.map(str::to_owned),
        auth_time: g.auth_time.map(|t| t.and_utc().timestamp()),
        profile: g.profile.clone(),
    };
    let access_token = jwt::sign(keys, ACCESS_TYP, &access)?;
    let id_token = if g.with_id_token {
        let claims = IdClaims {
            iss: g.issuer.to_owned(),
            sub: g.subject.to_owned(),
            aud: g.client_id.to_owned(),
            exp: now + secs(g.id_ttl),
            iat: now,
            auth_time: g.auth_time.map(|t| t.and_utc().timestamp()).unwrap_or(now),
            nonce: g.nonce.map(str::to_owned),
            at_hash: crate::crypto::at_hash(&access_token),
            sid: g.session_id.map(str::to_owned),
            profile: g.profile,
        };
        Some(jwt::sign(keys, ID_TYP, &claims)?)
    } else {
        None
    };
    let (refresh_token, refresh_jti, refresh_expires_at) = match g.refresh_ttl {
        Some(ttl) => {
            let claims = RefreshClaims {
                iss: g.issuer.to_owned(),
                sub: g.subject.to_owned(),
                aud: g.client_id.to_owned(),
                exp: now + secs(ttl),
                iat: now,
                jti: crate::crypto::random_token(24),
                sid: g.session_id.map(str::to_owned),
            };
            let token = jwt::sign(keys, REFRESH_TYP, &claims)?;
            (Some(token), Some(claims.jti), timestamp(claims.exp))
        }
        None => (None, None, None),
    };
    Ok(Minted {
        access_token,
        access_jti: access.jti,
        access_expires_at: timestamp(access_exp).unwrap_or_default(),
        expires_in: g.access_ttl.as_secs(),
        id_token,
        refresh_token,
        refresh_jti,
        refresh_expires_at,
    })
}

fn timestamp(secs: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.naive_utc())
}
