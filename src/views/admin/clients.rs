//! Admin console pages: clients (list, register / edit form, one client's page).

use askama::Template;

use super::Chrome;
use crate::service::admin::clients::Integration;
use crate::service::clients::ClientView;

/// The console's script (copy buttons), embedded in the binary (`/static/admin.js`): the CSP
/// allows only scripts served by Latchkey itself, never inline ones.
pub const SCRIPT: &str = include_str!("../../../templates/static/admin.js");

/// `/admin/clients`.
#[derive(Template)]
#[template(path = "admin/clients.html")]
pub struct ClientsPage {
    pub chrome: Chrome,
    pub clients: Vec<ClientView>,
    pub notice: Option<String>,
}

/// A checkbox of the form: its value, its label, whether it is ticked.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// What the register / edit form shows, as typed (kept when the form comes back with an
/// error).
#[derive(Default)]
pub struct ClientFields {
    pub name: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub resources: String,
    pub public: bool,
    pub skip_consent: bool,
    pub grants: Vec<String>,
    pub scopes: Vec<String>,
    pub access_token_ttl: String,
    pub refresh_token_ttl: String,
}

/// `/admin/clients/new` and `/admin/clients/{id}/edit`.
#[derive(Template)]
#[template(path = "admin/client_form.html")]
pub struct ClientFormPage {
    pub chrome: Chrome,
    /// `None` when registering a new client.
    pub client_id: Option<String>,
    pub fields: ClientFields,
    pub grants: Vec<Choice>,
    pub scopes: Vec<Choice>,
    /// The server-wide lifetimes a blank field inherits, in seconds.
    pub default_access_ttl: u64,
    pub default_refresh_ttl: u64,
    pub error: Option<String>,
}

/// `/admin/clients/{id}`: the values and configuration an app developer needs, and the
/// destructive actions.
#[derive(Template)]
#[template(path = "admin/client.html")]
pub struct ClientPage {
    pub chrome: Chrome,
    pub client: ClientView,
    /// A secret just made (registration or rotation), shown this once.
    pub secret: Option<String>,
    pub integration: Integration,
    pub default_access_ttl: u64,
    pub default_refresh_ttl: u64,
    pub notice: Option<String>,
    /// A refused delete or rotation (re-authentication), shown beside its form.
    pub error: Option<String>,
}
