//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`, or none for public clients.

use crate::db::Db;
use crate::error::OAuthError;
use crate::service::clients::{self, Client};

/// What the request presented, before checking.
#[derive(Debug, Default)]
pub struct Presented {
    /// From `Authorization: Basic` (already form-decoded), if present.
    pub basic: Option<(String, String)>,
    pub form_client_id: Option<String>,
    pub form_client_secret: Option<String>,
}

/// Authenticates the client. Public clients identify themselves by `client_id` alone, and
/// only where `allow_public` (token, revocation); a confidential client must prove its secret.
pub async fn authenticate(db: &Db, presented: Presented, allow_public: bool) -> Result<Client, OAuthError> {
    let claimed = claimed(presented)?;
    let found = clients::find(db, &claimed.id).await?;
    check(&claimed, found, allow_public)
}

/// Who a request says it is, before the database is asked.
pub struct Claimed {
    pub id: String,
    secret: Option<String>,
}

/// Reads one client authentication method from the request; two, or none, are refused.
pub fn claimed(presented: Presented) -> Result<Claimed, OAuthError> {
    let (id, secret) = match (presented.basic, presented.form_client_id, presented.form_client_secret) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        (Some((id, secret)), form_id, None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the authenticated client",
                ));
            }
            (id, Some(secret))
        }
        (None, Some(id), secret) => (id, secret),
        (None, None, _) => return Err(OAuthError::invalid_client()),
    };
    Ok(Claimed { id, secret })
}

/// Checks the claim against the client found under its id (if any); the secret is compared
/// in constant time.
pub fn check(claimed: &Claimed, found: Option<Client>, allow_public: bool) -> Result<Client, OAuthError> {
    let client = found.ok_or_else(OAuthError::invalid_client)?;
    match (client.public, &claimed.secret) {
        (true, None) if allow_public => Ok(client),
        (false, Some(secret)) if client.secret_matches(secret) => Ok(client),
        _ => Err(OAuthError::invalid_client()),
    }
}

/// Decodes an `Authorization: Basic` value into (client_id, secret). RFC 6749 §2.3.1: both
/// parts are form-urlencoded before base64.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    use base64::Engine;
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        // "my%20client:p%3Ass" -> ("my client", "p:ss")
        let header = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "my%20client:p%3Ass")
        );
        assert_eq!(parse_basic(&header), Some(("my client".into(), "p:ss".into())));
        assert_eq!(parse_basic("Bearer x"), None);
    }
}
