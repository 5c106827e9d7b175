//! Plain types and the rules that make a value valid. Parsing is validation: a value of one
//! of these types is known to be well-formed.

mod email;
mod password_policy;
mod redirect_uri;
mod scope;

pub use email::Email;
pub use password_policy::{MAX_PASSWORD_LEN, PasswordPolicy};
pub use redirect_uri::RedirectUri;
pub use scope::{SUPPORTED as SCOPES, Scope};

/// A rule of the domain was broken by an input; the message is safe to show to its author.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// OAuth grant types a client may be allowed (RFC 6749 §4).
pub const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];
