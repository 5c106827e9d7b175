//! A registered client as the protocol endpoints use it.

use std::time::Duration;

use crate::crypto;
use crate::db::Db;
use crate::db::models::ClientRow;
use crate::db::repo;
use crate::domain::Scope;
use crate::error::AppError;

use super::json_list;

/// A stored lifetime; a non-positive value (never written) reads as "inherit".
pub(super) fn ttl_secs(stored: Option<i64>) -> Option<u64> {
    stored.and_then(|s| u64::try_from(s).ok()).filter(|s| *s > 0)
}

/// A registered client, with what the endpoints check.
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
    /// Empty: every supported scope.
    pub allowed_scopes: Scope,
    access_token_ttl: Option<Duration>,
    refresh_token_ttl: Option<Duration>,
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
            allowed_scopes: Scope::from_stored(&r.allowed_scopes),
            access_token_ttl: ttl_secs(r.access_token_ttl).map(Duration::from_secs),
            refresh_token_ttl: ttl_secs(r.refresh_token_ttl).map(Duration::from_secs),
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

    /// The part of `requested` this client may be granted. RFC 6749 §3.3 lets the server
    /// grant less than asked (the token response's `scope` then tells the client), so
    /// scopes outside the client's list are dropped rather than failing the request; `None`
    /// (answered `invalid_scope`) only when scopes were asked for and none is left. A client
    /// with no list may have every supported scope.
    pub fn permitted_scope(&self, requested: Scope) -> Option<Scope> {
        if self.allowed_scopes.is_empty() {
            return Some(requested);
        }
        let kept: Vec<&str> = requested.iter().filter(|s| self.allowed_scopes.contains(s)).collect();
        if kept.is_empty() && !requested.is_empty() {
            return None;
        }
        Some(Scope::from_stored(&kept.join(" ")))
    }

    /// This client's access-token lifetime, or the server's `default` (`ACCESS_TOKEN_TTL`).
    pub fn access_ttl(&self, default: Duration) -> Duration {
        self.access_token_ttl.unwrap_or(default)
    }

    /// This client's refresh-token lifetime, or the server's `default` (`REFRESH_TOKEN_TTL`).
    pub fn refresh_ttl(&self, default: Duration) -> Duration {
        self.refresh_token_ttl.unwrap_or(default)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn client(allowed_scopes: &str, access: Option<i64>) -> Client {
        let now = chrono::Utc::now().naive_utc();
        Client::from(ClientRow {
            client_id: "c".into(),
            secret_hash: None,
            name: "App".into(),
            redirect_uris: "[]".into(),
            post_logout_redirect_uris: "[]".into(),
            grant_types: "[]".into(),
            resources: "[]".into(),
            is_public: true,
            skip_consent: false,
            created_at: now,
            updated_at: now,
            allowed_scopes: allowed_scopes.into(),
            access_token_ttl: access,
            refresh_token_ttl: None,
        })
    }

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    #[test]
    fn scopes_outside_the_list_are_dropped_and_nothing_left_is_refused() {
        let open = client("", None);
        assert_eq!(open.permitted_scope(scope("openid roles")), Some(scope("openid roles")));
        let narrow = client("email openid", None);
        assert_eq!(narrow.permitted_scope(scope("openid profile")), Some(scope("openid")));
        assert_eq!(narrow.permitted_scope(scope("profile roles")), None);
        assert_eq!(
            narrow.permitted_scope(scope("")),
            Some(scope("")),
            "nothing asked, nothing refused"
        );
    }

    #[test]
    fn lifetimes_fall_back_to_the_server_defaults() {
        let default = Duration::from_secs(900);
        assert_eq!(client("", Some(120)).access_ttl(default), Duration::from_secs(120));
        assert_eq!(client("", None).access_ttl(default), default);
        assert_eq!(
            client("", Some(-5)).access_ttl(default),
            default,
            "never written: inherit"
        );
        assert_eq!(client("", None).refresh_ttl(default), default);
    }
}
