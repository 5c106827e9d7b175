use std::collections::BTreeSet;
use std::fmt;

use super::Invalid;

/// The scopes Latchkey understands (OIDC Core §5.4, plus `roles`).
pub const SUPPORTED: &[&str] = &["openid", "profile", "email", "offline_access", "roles"];

/// A set of known scopes, kept sorted so equal sets print equally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-separated scope (RFC 6749 §3.3); an unknown value is an error.
    pub fn parse(raw: &str) -> Result<Scope, Invalid> {
        let mut set = BTreeSet::new();
        for s in raw.split(' ').filter(|s| !s.is_empty()) {
            if !SUPPORTED.contains(&s) {
                return Err(Invalid(format!("unknown scope {s:?}")));
            }
            set.insert(s.to_owned());
        }
        Ok(Scope(set))
    }

    /// Reads a scope this server stored itself (unknown values are dropped, never trusted).
    pub fn from_stored(raw: &str) -> Scope {
        Scope(
            raw.split(' ')
                .filter(|s| SUPPORTED.contains(s))
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sorts_and_refuses_unknown() {
        let s = Scope::parse("profile openid  email").unwrap();
        assert_eq!(s.to_string(), "email openid profile");
        assert!(s.contains("openid"));
        assert!(Scope::parse("openid admin").is_err());
        assert!(Scope::parse("openid").unwrap().is_subset(&s));
    }
}
