//! Admin console pages: keys.

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "admin/keys.html")]
pub struct KeysPage {
    pub chrome: Chrome,
    pub keys: Vec<KeyLine>,
    /// `LATCHKEY_KEY_PREPUBLISH`, human readable ("0s" when a new key signs at once).
    pub prepublish: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

pub struct KeyLine {
    pub kid: String,
    /// `active`, `published` or `retired`.
    pub state: &'static str,
    pub created: String,
    pub activates: String,
    /// How long ago it was created, e.g. "3 days".
    pub age: String,
    /// Published and not active: the only keys that may be retired.
    pub retirable: bool,
}
