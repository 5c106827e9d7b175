//! Registering and managing OAuth clients.

use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::Serialize;
use serde_json::json;

use crate::crypto;
use crate::db::models::ClientRow;
use crate::db::repo;
use crate::db::{Db, DbError};
use crate::domain::{GRANT_TYPES, Invalid, RedirectUri};
use crate::error::AppError;

/// Secrets are 32 random bytes (256 bits), shown once and stored as a SHA-256 hash.
const SECRET_BYTES: usize = 32;

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
    pub created_at: DateTime<Utc>,
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
            created_at: r.created_at.and_utc(),
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

/// Registers a client. `allow_http` permits non-loopback `http` redirect URIs (development).
pub async fn create(db: &Db, actor: &str, new: NewClient, allow_http: bool) -> Result<ClientView, AppError> {
    validate(&new, allow_http)?;
    let secret = (!new.public).then(|| crypto::random_token(SECRET_BYTES));
    let grants = if new.grant_types.is_empty() {
        vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
    } else {
        new.grant_types
    };
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
    };
    let event = super::audit::event(
        "client.created",
        actor,
        Some(&row.client_id),
        json!({ "name": row.name }),
    );
    let inserted = row.clone();
    db.run(move |conn| {
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

pub async fn delete(db: &Db, actor: &str, client_id: &str) -> Result<(), AppError> {
    let (id, actor) = (client_id.to_owned(), actor.to_owned());
    let deleted = db
        .run(move |conn| {
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
        .run(move |conn| {
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

/// A registered client as the protocol endpoints use it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub public: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub resources: Vec<String>,
    secret_hash: Option<String>,
}

impl From<ClientRow> for Client {
    fn from(r: ClientRow) -> Self {
        Client {
            redirect_uris: json_list(&r.redirect_uris),
            post_logout_redirect_uris: json_list(&r.post_logout_redirect_uris),
            grant_types: json_list(&r.grant_types),
            resources: json_list(&r.resources),
            id: r.client_id,
            name: r.name,
            public: r.is_public,
            skip_consent: r.skip_consent,
            secret_hash: r.secret_hash,
        }
    }
}

impl Client {
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }

    /// Exact string comparison (RFC 9700 §4.1.3): no prefix or pattern matching.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|u| u == uri)
    }

    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|u| u == uri)
    }

    /// Constant-time check of a presented secret; a public client has none to match.
    pub fn secret_matches(&self, presented: &str) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|hash| crypto::verify_secret(presented, hash))
    }
}

/// Looks a client up by id.
pub async fn find(db: &Db, client_id: &str) -> Result<Option<Client>, AppError> {
    let id = client_id.to_owned();
    Ok(db
        .run(move |conn| Ok(repo::clients::find(conn, &id)?))
        .await?
        .map(Client::from))
}
