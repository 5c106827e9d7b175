//! Admin console pages: users (list, new user, one user).

use askama::Template;

use super::Chrome;

/// The user list: a search form, one page of users, and a link to the next page.
#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub text: String,
    pub by_name: bool,
    pub admin: bool,
    pub disabled: bool,
    pub unverified: bool,
    pub locked: bool,
    pub users: Vec<UserLine>,
    /// The next page, with the same search; `None` on the last page.
    pub next_href: Option<String>,
    /// The first page of the same search, when this is a later page.
    pub first_href: Option<String>,
    pub notice: Option<&'static str>,
}

pub struct UserLine {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: String,
    pub verified: bool,
    pub disabled: bool,
    pub locked: bool,
    pub created: String,
}

/// A role as a checkbox.
pub struct RoleChoice {
    pub name: String,
    pub description: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
pub struct NewUserPage {
    pub chrome: Chrome,
    pub email: String,
    pub name: String,
    pub verified: bool,
    pub invite: bool,
    pub roles: Vec<RoleChoice>,
    pub error: Option<String>,
}

/// One user: profile and roles forms, actions, and what is around the account.
#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub id: String,
    /// The address as stored (the form below may hold what was just typed).
    pub current_email: String,
    pub form: ProfileFields,
    pub disabled: bool,
    pub has_password: bool,
    pub created: String,
    /// "Locked until ..." or "3 failed sign-ins", when the address has a counter.
    pub lock: Option<String>,
    pub locked: bool,
    pub roles: Vec<RoleChoice>,
    pub sessions: Vec<SessionLine>,
    pub identities: Vec<IdentityLine>,
    pub consents: Vec<ConsentLine>,
    pub events: Vec<EventLine>,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

pub struct ProfileFields {
    pub name: String,
    pub email: String,
    pub verified: bool,
}

pub struct SessionLine {
    pub created: String,
    pub last_seen: String,
    pub ip: String,
    pub user_agent: String,
}

pub struct IdentityLine {
    pub provider: String,
    pub email: String,
    pub last_used: String,
}

pub struct ConsentLine {
    pub client: String,
    pub scope: String,
    pub granted: String,
}

pub struct EventLine {
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub detail: String,
}
