//! Row structs: what a table row is, with no behaviour. Services turn them into domain types.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_events, authorization_codes, clients, consents, refresh_tokens, sessions, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub roles: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub name: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: String,
    pub resources: String,
    pub is_public: bool,
    pub skip_consent: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Space-separated scopes the client may be granted; empty: every supported scope.
    pub allowed_scopes: String,
    /// Seconds; `None` inherits `ACCESS_TOKEN_TTL`.
    pub access_token_ttl: Option<i64>,
    /// Seconds; `None` inherits `REFRESH_TOKEN_TTL`.
    pub refresh_token_ttl: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub kind: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub auth_time: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    pub granted_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct CodeRow {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub resource: Option<String>,
    pub auth_time: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub family_id: Option<String>,
    pub access_jti: Option<String>,
    pub access_expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshRow {
    pub jti_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub scope: String,
    pub resource: Option<String>,
    pub auth_time: NaiveDateTime,
    pub access_jti: String,
    pub access_expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::one_time_tokens)]
pub struct OneTimeTokenRow {
    pub token_hash: String,
    pub kind: String,
    pub user_id: String,
    pub email: String,
    pub request: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// A queued message. No `Debug`: the bodies hold live links (verification, reset).
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::mail_outbox)]
pub struct MailRow {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

/// The failed sign-ins counted against one email address.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::login_failures, treat_none_as_null = true)]
pub struct LoginFailureRow {
    pub subject: String,
    pub window_start: NaiveDateTime,
    pub failures: i32,
    pub blocked_until: Option<NaiveDateTime>,
}

/// One client IP's token bucket, in thousandths of a request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::rate_limits)]
pub struct RateLimitRow {
    pub key: String,
    pub tokens: i64,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::user_identities)]
pub struct IdentityRow {
    pub provider: String,
    pub subject: String,
    pub user_id: String,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

/// An upstream sign-in in flight. No `Debug`: it holds the PKCE verifier.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::upstream_logins)]
pub struct UpstreamLoginRow {
    pub state_hash: String,
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub request: Option<String>,
    pub link_user_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::pending_links)]
pub struct PendingLinkRow {
    pub id_hash: String,
    pub user_id: String,
    pub provider: String,
    pub subject: String,
    pub email: String,
    pub request: Option<String>,
    pub email_token_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A role an administrator can grant (`users.roles` holds the names a user has).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::roles)]
pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub created_at: NaiveDateTime,
}
