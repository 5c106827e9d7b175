//! The register / edit form: read from the posted fields, turned into the service's input,
//! and shown again as typed when the service refuses it.

use crate::domain::{GRANT_TYPES, SCOPES};
use crate::error::AppError;
use crate::service::clients::{ClientEdit, ClientSettings, ClientView, NewClient};
use crate::views::admin::clients::{Choice, ClientFields};

/// The posted form. Read as name/value pairs because the checkboxes (`grant`, `scope`) repeat
/// their name, which a struct cannot receive.
pub struct Posted {
    pub csrf_token: String,
    pub fields: ClientFields,
}

impl Posted {
    pub fn read(pairs: Vec<(String, String)>) -> Posted {
        let mut csrf_token = String::new();
        let mut f = ClientFields::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf_token" => csrf_token = value,
                "name" => f.name = value,
                "redirect_uris" => f.redirect_uris = value,
                "post_logout_redirect_uris" => f.post_logout_redirect_uris = value,
                "resources" => f.resources = value,
                "client_type" => f.public = value == "public",
                "skip_consent" => f.skip_consent = true,
                "grant" => f.grants.push(value),
                "scope" => f.scopes.push(value),
                "access_token_ttl" => f.access_token_ttl = value,
                "refresh_token_ttl" => f.refresh_token_ttl = value,
                _ => {}
            }
        }
        Posted { csrf_token, fields: f }
    }
}

/// One value per non-blank line.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A blank lifetime inherits the server's; anything else must be whole seconds (the range
/// is the service's rule).
fn seconds(text: &str, what: &str) -> Result<Option<u64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| AppError::Invalid(format!("the {what} lifetime must be a whole number of seconds")))
}

pub fn settings(f: &ClientFields) -> Result<ClientSettings, AppError> {
    Ok(ClientSettings {
        allowed_scopes: f.scopes.clone(),
        access_token_ttl: seconds(&f.access_token_ttl, "access-token")?,
        refresh_token_ttl: seconds(&f.refresh_token_ttl, "refresh-token")?,
    })
}

pub fn new_client(f: &ClientFields) -> NewClient {
    NewClient {
        name: f.name.clone(),
        redirect_uris: lines(&f.redirect_uris),
        post_logout_redirect_uris: lines(&f.post_logout_redirect_uris),
        public: f.public,
        skip_consent: f.skip_consent,
        grant_types: f.grants.clone(),
        resources: lines(&f.resources),
    }
}

pub fn edit(f: &ClientFields) -> ClientEdit {
    ClientEdit {
        name: f.name.clone(),
        redirect_uris: lines(&f.redirect_uris),
        post_logout_redirect_uris: lines(&f.post_logout_redirect_uris),
        skip_consent: f.skip_consent,
        grant_types: f.grants.clone(),
        resources: lines(&f.resources),
    }
}

/// The form filled with a client's current values.
pub fn fields_of(c: &ClientView) -> ClientFields {
    let ttl = |t: Option<u64>| t.map(|s| s.to_string()).unwrap_or_default();
    ClientFields {
        name: c.name.clone(),
        redirect_uris: c.redirect_uris.join("\n"),
        post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
        resources: c.resources.join("\n"),
        public: c.public,
        skip_consent: c.skip_consent,
        grants: c.grant_types.clone(),
        scopes: c.allowed_scopes.clone(),
        access_token_ttl: ttl(c.access_token_ttl),
        refresh_token_ttl: ttl(c.refresh_token_ttl),
    }
}

/// The form for a new client: the grants a new client gets by default ticked.
pub fn blank() -> ClientFields {
    ClientFields {
        grants: vec!["authorization_code".into(), "refresh_token".into()],
        ..ClientFields::default()
    }
}

pub fn grant_choices(f: &ClientFields) -> Vec<Choice> {
    GRANT_TYPES
        .iter()
        .map(|g| Choice {
            value: g,
            label: match *g {
                "authorization_code" => "Authorization code (users sign in)",
                "refresh_token" => "Refresh token (stay signed in)",
                _ => "Client credentials (machine to machine; confidential clients)",
            },
            checked: f.grants.iter().any(|x| x == g),
        })
        .collect()
}

pub fn scope_choices(f: &ClientFields) -> Vec<Choice> {
    SCOPES
        .iter()
        .map(|s| Choice {
            value: s,
            label: crate::views::describe_scope(s).unwrap_or_default(),
            checked: f.scopes.iter().any(|x| x == s),
        })
        .collect()
}
