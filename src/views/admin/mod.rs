//! Admin console pages: one askama struct per page; each carries [`Chrome`] for the shared
//! layout (`templates/admin/base.html`).

pub mod audit;
pub mod clients;
pub mod dashboard;
pub mod keys;
pub mod roles;
pub mod sessions;
pub mod users;

/// The admin stylesheet, embedded in the binary (`/static/admin.css`).
pub const STYLESHEET: &str = include_str!("../../../templates/static/admin.css");

/// What the layout needs: the navigation's current section, who is signed in, the CSRF
/// token for the sign-out form, and whether destructive forms must ask for the password.
pub struct Chrome {
    pub active: &'static str,
    pub admin_email: String,
    pub csrf: String,
    pub needs_reauth: bool,
}
