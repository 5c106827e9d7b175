//! One askama struct per page: data only. A misspelt field fails the build, not the page.

use askama::Template;

pub mod admin;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub client_name: Option<String>,
    pub request: String,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
    /// The sign-up link (carrying the authorization request), when sign-up is open.
    pub signup_href: Option<String>,
    pub providers: Vec<ProviderButton>,
}

/// "Continue with <provider>": a link to `/login/{provider}` carrying the request.
pub struct ProviderButton {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub csrf: String,
    pub request: String,
    pub email: String,
    pub name: String,
    pub error: Option<String>,
    pub min_length: usize,
    pub login_href: String,
    pub providers: Vec<ProviderButton>,
}

/// A one-field form asking for an email address (forgot password, resend verification).
#[derive(Template)]
#[template(path = "email_form.html")]
pub struct EmailFormPage {
    pub title: &'static str,
    pub intro: &'static str,
    pub action: &'static str,
    pub button: &'static str,
    pub csrf: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
pub struct ResetPasswordPage {
    pub csrf: String,
    pub token: String,
    pub error: Option<String>,
    pub min_length: usize,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub client_name: String,
    pub user_email: String,
    pub scopes: Vec<&'static str>,
    pub request: String,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: String,
    pub message: String,
    pub is_error: bool,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub csrf: String,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

/// The stylesheet, embedded in the binary.
pub const STYLESHEET: &str = include_str!("../../templates/static/latchkey.css");

/// A scope in words a user understands (consent page).
pub fn describe_scope(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Know who you are (your Latchkey account id)",
        "profile" => "See your name",
        "email" => "See your email address",
        "offline_access" => "Stay signed in when you are away (refresh tokens)",
        "roles" => "See your roles",
        _ => return None,
    })
}

/// One line of the account page's session list.
pub struct SessionLine {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub created: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub csrf: String,
    pub email: String,
    pub name: String,
    pub verified: bool,
    pub sessions: Vec<SessionLine>,
    pub identities: Vec<IdentityLine>,
    /// Whether to link to the admin console (the user has the `admin` role).
    pub is_admin: bool,
    /// Providers that are on and not linked yet: `(name, display name)`.
    pub linkable: Vec<(String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// One linked upstream account on the account page.
pub struct IdentityLine {
    pub provider: String,
    pub display_name: String,
    pub email: String,
    pub last_used: String,
}

/// "An account with this email exists — sign in to it to link <provider>."
#[derive(Template)]
#[template(path = "link_account.html")]
pub struct LinkAccountPage {
    pub csrf: String,
    pub provider: String,
    pub email: String,
    /// Whether the emailed link is offered (only for accounts with a verified address).
    pub can_mail: bool,
    pub error: Option<String>,
}

/// The page a mailed link opens: a button, so that mail scanners following links do nothing.
#[derive(Template)]
#[template(path = "link_confirm.html")]
pub struct LinkConfirmPage {
    pub csrf: String,
    pub token: String,
    pub provider: String,
}
