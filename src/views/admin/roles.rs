//! Admin console pages: roles.

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "admin/roles.html")]
pub struct RolesPage {
    pub chrome: Chrome,
    pub roles: Vec<RoleLine>,
    /// The create form, kept after a refusal.
    pub name: String,
    pub description: String,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

pub struct RoleLine {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub created: String,
}
