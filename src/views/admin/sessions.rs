//! Admin console pages: sessions.

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "admin/sessions.html")]
pub struct SessionsPage {
    pub chrome: Chrome,
    pub sessions: Vec<SessionLine>,
    /// The link to the next page, if there is more.
    pub next_href: Option<String>,
    /// Whether this is a later page (so a link back to the first is shown).
    pub paged: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
}

pub struct SessionLine {
    pub id: String,
    pub email: String,
    pub user_agent: String,
    pub ip: String,
    pub created: String,
    pub last_seen: String,
    /// The administrator's own session (ending it signs this browser out).
    pub current: bool,
}
