//! Registering and managing OAuth clients: the rules shared by the CLI and the admin
//! console. [`Client`] is the same client as the protocol endpoints use it.

mod client;

use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::Serialize;
use serde_json::json;

use crate::crypto;
use crate::db::models::ClientRow;
use crate::db::repo;
use crate::db::{Db, DbError};
use crate::domain::{GRANT_TYPES, Invalid, RedirectUri, Scope};
use crate::error::AppError;
use client::ttl_secs;
pub use client::{Client, find};

/// Secrets are 32 random bytes (256 bits), shown once and stored as a SHA-256 hash.
const SECRET_BYTES: usize = 32;

/// Bounds of a per-client lifetime override (seconds). Below a minute a token expires before
/// clock skew is absorbed; an access token is verified offline and cannot be recalled, so a
/// day is the most a client may have; a refresh token at most a year.
pub const MIN_TTL_SECS: u64 = 60;
pub const MAX_ACCESS_TTL_SECS: u64 = 86_400;
pub const MAX_REFRESH_TTL_SECS: u64 = 365 * 86_400;

/// A registered client as an administrator sees it; `client_secret` only right after it
/// was made (create, rotate-secret).
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub resources: Vec<String>,
    pub skip_consent: bool,
    /// Empty: every supported scope.
    pub allowed_scopes: Vec<String>,
    /// Seconds; `None`: `ACCESS_TOKEN_TTL`.
    pub access_token_ttl: Option<u64>,
    /// Seconds; `None`: `REFRESH_TOKEN_TTL`.
    pub refresh_token_ttl: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientRow> for ClientView {
    fn from(r: ClientRow) -> Self {
        ClientView {
            client_id: r.client_id,
            client_secret: None,
            name: r.name,
            public: r.is_public,
            redirect_uris: json_list(&r.redirect_uris),
            post_logout_redirect_uris: json_list(&r.post_logout_redirect_uris),
            grant_types: json_list(&r.grant_types),
            resources: json_list(&r.resources),
            skip_consent: r.skip_consent,
            allowed_scopes: r.allowed_scopes.split_whitespace().map(str::to_owned).collect(),
            access_token_ttl: ttl_secs(r.access_token_ttl),
            refresh_token_ttl: ttl_secs(r.refresh_token_ttl),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Lists are stored as JSON arrays of strings; a damaged value reads as empty, which denies.
fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Input of [`create`], unvalidated.
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub skip_consent: bool,
    /// Empty means the default: `authorization_code` and `refresh_token`.
    pub grant_types: Vec<String>,
    pub resources: Vec<String>,
}

/// Per-client overrides of server-wide defaults; `Default` inherits them all (the CLI's
/// `client create` registers clients this way).
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// Scopes the client may be granted; empty: every supported scope.
    pub allowed_scopes: Vec<String>,
    /// Seconds; `None`: `ACCESS_TOKEN_TTL`.
    pub access_token_ttl: Option<u64>,
    /// Seconds; `None`: `REFRESH_TOKEN_TTL`.
    pub refresh_token_ttl: Option<u64>,
}

impl ClientSettings {
    /// Validates, and returns the scopes in their stored (sorted, space-separated) form.
    fn validate(&self) -> Result<String, Invalid> {
        let scopes = Scope::parse(&self.allowed_scopes.join(" "))?;
        let within = |ttl: Option<u64>, max: u64, what: &str| match ttl {
            Some(s) if !(MIN_TTL_SECS..=max).contains(&s) => Err(Invalid(format!(
                "the {what} lifetime must be between {MIN_TTL_SECS} and {max} seconds"
            ))),
            _ => Ok(()),
        };
        within(self.access_token_ttl, MAX_ACCESS_TTL_SECS, "access-token")?;
        within(self.refresh_token_ttl, MAX_REFRESH_TTL_SECS, "refresh-token")?;
        Ok(scopes.to_string())
    }
}

/// Seconds as stored (BIGINT); the bounds above keep every value far inside `i64`.
fn stored_ttl(secs: Option<u64>) -> Option<i64> {
    secs.and_then(|s| i64::try_from(s).ok())
}

/// What an administrator may change after registration. Not public / confidential: a secret
/// must not appear or vanish by an edit (register a new client instead).
pub struct ClientEdit {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub skip_consent: bool,
    /// Empty means the default, as in [`NewClient`].
    pub grant_types: Vec<String>,
    pub resources: Vec<String>,
}

/// Empty means the default grants: `authorization_code` and `refresh_token`.
fn grants_or_default(grants: Vec<String>) -> Vec<String> {
    if grants.is_empty() {
        vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
    } else {
        grants
    }
}

fn validate(new: &NewClient, allow_http: bool) -> Result<(), Invalid> {
    if new.name.trim().is_empty() {
        return Err(Invalid("client name must not be empty".into()));
    }
    if new.redirect_uris.is_empty() {
        return Err(Invalid("a client needs at least one redirect URI".into()));
    }
    for uri in new.redirect_uris.iter().chain(&new.post_logout_redirect_uris) {
        RedirectUri::parse(uri, allow_http)?;
    }
    for grant in &new.grant_types {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            return Err(Invalid(format!(
                "unknown grant type {grant:?} (expected one of {})",
                GRANT_TYPES.join(", ")
            )));
        }
    }
    // RFC 6749 §4.4: client_credentials needs a client that can authenticate.
    if new.public && new.grant_types.iter().any(|g| g == "client_credentials") {
        return Err(Invalid(
            "a public client cannot use the client_credentials grant".into(),
        ));
    }
    for resource in &new.resources {
        // RFC 8707 §2: a resource is an absolute URI without a fragment.
        let ok = url::Url::parse(resource).is_ok_and(|u| u.fragment().is_none());
        if !ok {
            return Err(Invalid(format!(
                "resource {resource:?} must be an absolute URI without a fragment"
            )));
        }
    }
    Ok(())
}

/// Registers a client with the server-wide defaults. `allow_http` permits non-loopback `http`
/// redirect URIs (development).
pub async fn create(db: &Db, actor: &str, new: NewClient, allow_http: bool) -> Result<ClientView, AppError> {
    create_with(db, actor, new, ClientSettings::default(), allow_http).await
}

/// Registers a client with its own settings (the admin console).
pub async fn create_with(
    db: &Db,
    actor: &str,
    new: NewClient,
    settings: ClientSettings,
    allow_http: bool,
) -> Result<ClientView, AppError> {
    validate(&new, allow_http)?;
    let allowed_scopes = settings.validate()?;
    let secret = (!new.public).then(|| crypto::random_token(SECRET_BYTES));
    let grants = grants_or_default(new.grant_types);
    let now = super::now();
    let row = ClientRow {
        client_id: crypto::random_token(18),
        secret_hash: secret.as_deref().map(crypto::hash_secret),
        name: new.name.trim().to_owned(),
        redirect_uris: json!(new.redirect_uris).to_string(),
        post_logout_redirect_uris: json!(new.post_logout_redirect_uris).to_string(),
        grant_types: json!(grants).to_string(),
        resources: json!(new.resources).to_string(),
        is_public: new.public,
        skip_consent: new.skip_consent,
        created_at: now,
        updated_at: now,
        allowed_scopes,
        access_token_ttl: stored_ttl(settings.access_token_ttl),
        refresh_token_ttl: stored_ttl(settings.refresh_token_ttl),
    };
    let event = super::audit::event(
        "client.created",
        actor,
        Some(&row.client_id),
        json!({ "name": row.name }),
    );
    let inserted = row.clone();
    db.run_write(move |conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            repo::clients::insert(conn, &inserted)?;
            repo::audit::insert(conn, &event)?;
            Ok(())
        })
    })
    .await?;
    Ok(ClientView {
        client_secret: secret,
        ..row.into()
    })
}

pub async fn list(db: &Db) -> Result<Vec<ClientView>, AppError> {
    let rows = db.run(|conn| Ok(repo::clients::list(conn)?)).await?;
    Ok(rows.into_iter().map(ClientView::from).collect())
}

/// One client as an administrator sees it (no secret).
pub async fn get(db: &Db, client_id: &str) -> Result<ClientView, AppError> {
    let id = client_id.to_owned();
    db.run(move |conn| Ok(repo::clients::find(conn, &id)?))
        .await?
        .map(ClientView::from)
        .ok_or_else(|| no_such_client(client_id))
}

/// Changes a client: the same rules as [`create_with`], audited as `client.updated`.
pub async fn update(
    db: &Db,
    actor: &str,
    client_id: &str,
    edit: ClientEdit,
    settings: ClientSettings,
    allow_http: bool,
) -> Result<ClientView, AppError> {
    let id = client_id.to_owned();
    let current = db
        .run(move |conn| Ok(repo::clients::find(conn, &id)?))
        .await?
        .ok_or_else(|| no_such_client(client_id))?;
    // Validated as a registration of the same type, so no rule is written twice.
    let new = NewClient {
        name: edit.name,
        redirect_uris: edit.redirect_uris,
        post_logout_redirect_uris: edit.post_logout_redirect_uris,
        public: current.is_public,
        skip_consent: edit.skip_consent,
        grant_types: edit.grant_types,
        resources: edit.resources,
    };
    validate(&new, allow_http)?;
    let allowed_scopes = settings.validate()?;
    let row = ClientRow {
        name: new.name.trim().to_owned(),
        redirect_uris: json!(new.redirect_uris).to_string(),
        post_logout_redirect_uris: json!(new.post_logout_redirect_uris).to_string(),
        grant_types: json!(grants_or_default(new.grant_types)).to_string(),
        resources: json!(new.resources).to_string(),
        skip_consent: new.skip_consent,
        allowed_scopes,
        access_token_ttl: stored_ttl(settings.access_token_ttl),
        refresh_token_ttl: stored_ttl(settings.refresh_token_ttl),
        updated_at: super::now(),
        ..current
    };
    let event = super::audit::event(
        "client.updated",
        actor,
        Some(&row.client_id),
        json!({ "name": row.name }),
    );
    let updated = row.clone();
    let found = db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let found = repo::clients::update(conn, &updated)?;
                if found {
                    repo::audit::insert(conn, &event)?;
                }
                Ok(found)
            })
        })
        .await?;
    if !found {
        return Err(no_such_client(client_id));
    }
    Ok(row.into())
}

pub async fn delete(db: &Db, actor: &str, client_id: &str) -> Result<(), AppError> {
    let (id, actor) = (client_id.to_owned(), actor.to_owned());
    let deleted = db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let deleted = repo::clients::delete(conn, &id)?;
                if deleted {
                    repo::audit::insert(
                        conn,
                        &super::audit::event("client.deleted", &actor, Some(&id), json!({})),
                    )?;
                }
                Ok(deleted)
            })
        })
        .await?;
    if deleted {
        Ok(())
    } else {
        Err(no_such_client(client_id))
    }
}

/// Issues a new secret; the old one stops working at once. Public clients have none.
pub async fn rotate_secret(db: &Db, actor: &str, client_id: &str) -> Result<ClientView, AppError> {
    let secret = crypto::random_token(SECRET_BYTES);
    let (id, actor, hash) = (client_id.to_owned(), actor.to_owned(), crypto::hash_secret(&secret));
    let row = db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let Some(row) = repo::clients::find(conn, &id)? else {
                    return Ok(None);
                };
                if row.is_public {
                    return Ok(Some(row));
                }
                repo::clients::set_secret_hash(conn, &id, &hash, super::now())?;
                repo::audit::insert(
                    conn,
                    &super::audit::event("client.secret_rotated", &actor, Some(&id), json!({})),
                )?;
                Ok(Some(row))
            })
        })
        .await?;
    let row = row.ok_or_else(|| no_such_client(client_id))?;
    if row.is_public {
        return Err(AppError::Invalid(format!(
            "client {client_id} is public and has no secret"
        )));
    }
    Ok(ClientView {
        client_secret: Some(secret),
        ..row.into()
    })
}

fn no_such_client(client_id: &str) -> AppError {
    AppError::NotFound(format!("no client with id {client_id}"))
}
