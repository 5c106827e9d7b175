use std::fmt;

use url::Url;

use super::Invalid;

/// A redirect URI a client registered. Compared by exact string match at `/authorize`
/// (OAuth 2.0 Security BCP, RFC 9700 §4.1.3), so it is stored exactly as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Absolute, no fragment (RFC 6749 §3.1.2). `https` anywhere; `http` only on loopback
    /// unless `allow_http` (development); a private-use scheme with a dot (`com.example.app:/cb`,
    /// RFC 8252 §7.1) for native apps. Script-capable schemes are refused.
    pub fn parse(raw: &str, allow_http: bool) -> Result<RedirectUri, Invalid> {
        let invalid = |why: &str| Invalid(format!("redirect URI {raw:?} {why}"));
        let url = Url::parse(raw).map_err(|_| invalid("is not an absolute URI"))?;
        if url.fragment().is_some() || raw.contains('#') {
            return Err(invalid("must not contain a fragment"));
        }
        match url.scheme() {
            "https" => {}
            "http" if allow_http || crate::config::is_loopback_url(raw) => {}
            "http" => {
                return Err(invalid("must use https (http is allowed only for loopback addresses)"));
            }
            "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => {
                return Err(invalid("uses a scheme that is not allowed"));
            }
            scheme if scheme.contains('.') => {}
            _ => {
                return Err(invalid("must use https, loopback http, or a reverse-domain app scheme"));
            }
        }
        if matches!(url.scheme(), "http" | "https") && url.host().is_none() {
            return Err(invalid("has no host"));
        }
        Ok(RedirectUri(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        assert!(RedirectUri::parse("https://app.example.com/cb", false).is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:3000/cb", false).is_ok());
        assert!(RedirectUri::parse("http://localhost/cb", false).is_ok());
        assert!(RedirectUri::parse("com.example.app:/oauth", false).is_ok());
        assert!(RedirectUri::parse("http://app.example.com/cb", true).is_ok());
        assert!(RedirectUri::parse("http://app.example.com/cb", false).is_err());
        assert!(RedirectUri::parse("https://app.example.com/cb#x", false).is_err());
        assert!(RedirectUri::parse("/cb", true).is_err());
        assert!(RedirectUri::parse("javascript:alert(1)", true).is_err());
    }
}
