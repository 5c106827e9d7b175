//! Minting tokens: the claims of DESIGN.md's token table, one RSA signature each.

use std::sync::Arc;

use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::jwt;
use crate::crypto::keys::KeySet;
use crate::db::models::UserRow;
use crate::domain::Scope;
use crate::error::AppError;

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

/// A grant's tokens with every claim decided (ids, times) but not yet signed. The grant's
/// transaction records what it must from these; the three RSA signatures are made after it
/// commits, on a blocking thread, so neither SQLite's one writer nor a pooled connection
/// waits on them.
pub struct Unsigned {
    access: AccessClaims,
    /// `at_hash` is filled in when the access token is signed.
    id: Option<IdClaims>,
    refresh: Option<RefreshClaims>,
    expires_in: u64,
}

/// Signed tokens, ready for the token response.
pub struct Minted {
    pub access_token: String,
    pub expires_in: u64,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

/// Decides the claims of a grant's tokens.
pub fn prepare(g: Grant<'_>) -> Unsigned {
    let now = Utc::now().timestamp();
    let access = AccessClaims {
        iss: g.issuer.to_owned(),
        sub: g.subject.to_owned(),
        aud: g.audience.to_owned(),
        exp: now + secs(g.access_ttl),
        iat: now,
        nbf: now,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: g.client_id.to_owned(),
        scope: g.scope.to_string(),
        sid: g.session_id.map(str::to_owned),
        auth_time: g.auth_time.map(|t| t.and_utc().timestamp()),
        profile: g.profile.clone(),
    };
    let id = g.with_id_token.then(|| IdClaims {
        iss: g.issuer.to_owned(),
        sub: g.subject.to_owned(),
        aud: g.client_id.to_owned(),
        exp: now + secs(g.id_ttl),
        iat: now,
        auth_time: g.auth_time.map(|t| t.and_utc().timestamp()).unwrap_or(now),
        nonce: g.nonce.map(str::to_owned),
        at_hash: String::new(),
        sid: g.session_id.map(str::to_owned),
        profile: g.profile,
    });
    let refresh = g.refresh_ttl.map(|ttl| RefreshClaims {
        iss: g.issuer.to_owned(),
        sub: g.subject.to_owned(),
        aud: g.client_id.to_owned(),
        exp: now + secs(ttl),
        iat: now,
        jti: crate::crypto::random_token(24),
        sid: g.session_id.map(str::to_owned),
    });
    Unsigned {
        access,
        id,
        refresh,
        expires_in: g.access_ttl.as_secs(),
    }
}

impl Unsigned {
    pub fn access_jti(&self) -> &str {
        &self.access.jti
    }

    pub fn access_expires_at(&self) -> NaiveDateTime {
        timestamp(self.access.exp).unwrap_or_default()
    }

    /// The refresh token's `jti` and expiry, when one is issued.
    pub fn refresh(&self) -> Option<(&str, NaiveDateTime)> {
        let r = self.refresh.as_ref()?;
        Some((&r.jti, timestamp(r.exp)?))
    }

    /// Signs the tokens with the active key. CPU-bound (one RSA signature per token).
    pub fn sign(self, keys: &KeySet) -> anyhow::Result<Minted> {
        let access_token = jwt::sign(keys, ACCESS_TYP, &self.access)?;
        let id_token = match self.id {
            Some(mut claims) => {
                claims.at_hash = crate::crypto::at_hash(&access_token);
                Some(jwt::sign(keys, ID_TYP, &claims)?)
            }
            None => None,
        };
        let refresh_token = match &self.refresh {
            Some(claims) => Some(jwt::sign(keys, REFRESH_TYP, claims)?),
            None => None,
        };
        Ok(Minted {
            access_token,
            expires_in: self.expires_in,
            id_token,
            refresh_token,
        })
    }

    /// [`Unsigned::sign`] on a blocking thread, so a burst of grants never stalls the async
    /// workers that answer discovery, JWKS and pages.
    pub async fn sign_off_thread(self, keys: Arc<KeySet>) -> Result<Minted, AppError> {
        tokio::task::spawn_blocking(move || self.sign(&keys))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(AppError::Internal)
    }
}

fn timestamp(secs: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.naive_utc())
}
