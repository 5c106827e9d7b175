//! Upstream identity providers (`GOOGLE_*`, `GITHUB_*`, `LATCHKEY_OIDC_PROVIDERS` with
//! `OIDC_<NAME>_*`): which are on, and where they live.

use anyhow::{Context, bail};
use secrecy::SecretString;
use url::Url;

/// How a provider is spoken to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamKind {
    /// OpenID Connect with discovery from `issuer` (Google and every generic provider).
    Oidc { issuer: String },
    /// GitHub's OAuth 2 web flow and its REST API (GitHub is not an OpenID provider).
    Github { base_url: String, api_url: String },
}

/// One configured provider. It is on because its client id is set.
#[derive(Debug, Clone)]
pub struct UpstreamProvider {
    /// The name in `/login/{name}`: `google`, `github` or a `LATCHKEY_OIDC_PROVIDERS` entry.
    pub name: String,
    /// What the buttons say after "Continue with".
    pub display_name: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub scopes: Vec<String>,
    pub kind: UpstreamKind,
}

/// Reads every provider whose client id is set. `get` returns a trimmed, non-empty value.
pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Vec<UpstreamProvider>> {
    let mut providers = Vec::new();
    if let Some(client_id) = get("GOOGLE_CLIENT_ID") {
        let issuer = get("GOOGLE_ISSUER_URL").unwrap_or_else(|| "https://accounts.google.com".into());
        providers.push(UpstreamProvider {
            name: "google".into(),
            display_name: "Google".into(),
            client_id,
            client_secret: get("GOOGLE_CLIENT_SECRET").map(SecretString::from),
            scopes: words("openid email profile"),
            kind: UpstreamKind::Oidc {
                issuer: issuer_url("GOOGLE_ISSUER_URL", &issuer)?,
            },
        });
    }
    if let Some(client_id) = get("GITHUB_CLIENT_ID") {
        let base_url = get("GITHUB_BASE_URL").unwrap_or_else(|| "https://github.com".into());
        let api_url = get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into());
        providers.push(UpstreamProvider {
            name: "github".into(),
            display_name: "GitHub".into(),
            client_id,
            client_secret: get("GITHUB_CLIENT_SECRET").map(SecretString::from),
            scopes: words("read:user user:email"),
            kind: UpstreamKind::Github {
                base_url: http_url("GITHUB_BASE_URL", &base_url)?,
                api_url: http_url("GITHUB_API_URL", &api_url)?,
            },
        });
    }
    let names = get("LATCHKEY_OIDC_PROVIDERS").unwrap_or_default();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let name = name.to_ascii_lowercase();
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            bail!("LATCHKEY_OIDC_PROVIDERS: {name:?} may hold only letters, digits and '-'");
        }
        if providers.iter().any(|p| p.name == name) {
            bail!("LATCHKEY_OIDC_PROVIDERS: {name:?} is named twice or clashes with google/github");
        }
        let prefix = format!("OIDC_{}_", name.to_ascii_uppercase().replace('-', "_"));
        let var = |suffix: &str| get(&format!("{prefix}{suffix}"));
        let Some(client_id) = var("CLIENT_ID") else {
            // Listed but without a client id: off, like Google and GitHub without theirs.
            continue;
        };
        let issuer = var("ISSUER").with_context(|| format!("{prefix}ISSUER must be set for provider {name:?}"))?;
        providers.push(UpstreamProvider {
            display_name: var("DISPLAY_NAME").unwrap_or_else(|| capitalised(&name)),
            client_id,
            client_secret: var("CLIENT_SECRET").map(SecretString::from),
            scopes: scopes_with_openid(var("SCOPES").as_deref().unwrap_or("openid email profile")),
            kind: UpstreamKind::Oidc {
                issuer: issuer_url(&format!("{prefix}ISSUER"), &issuer)?,
            },
            name,
        });
    }
    Ok(providers)
}

fn words(list: &str) -> Vec<String> {
    list.split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An OpenID sign-in always asks for `openid`, whatever the list says.
fn scopes_with_openid(list: &str) -> Vec<String> {
    let mut scopes = words(list);
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    scopes
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// An http(s) URL with a host, without a trailing slash (paths are appended to it).
fn http_url(var: &str, raw: &str) -> anyhow::Result<String> {
    Ok(issuer_url(var, raw)?.trim_end_matches('/').to_owned())
}

/// An issuer, exactly as given: discovery requires the document's `issuer` to match it
/// character for character, and some issuers end in a slash (Auth0's do).
fn issuer_url(var: &str, raw: &str) -> anyhow::Result<String> {
    let url = Url::parse(raw).with_context(|| format!("{var} {raw:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("{var} must be an http(s) URL with a host");
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> anyhow::Result<Vec<UpstreamProvider>> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        from_vars(&|name| map.get(name).cloned())
    }

    #[test]
    fn a_provider_is_on_when_its_client_id_is_set() {
        assert!(read(&[("GOOGLE_CLIENT_SECRET", "s")]).unwrap().is_empty());
        let all = read(&[
            ("GOOGLE_CLIENT_ID", "g"),
            ("GITHUB_CLIENT_ID", "h"),
            ("LATCHKEY_OIDC_PROVIDERS", "acme, corp-sso"),
            ("OIDC_ACME_CLIENT_ID", "a"),
            ("OIDC_ACME_ISSUER", "https://sso.acme.test/realms/main/"),
            ("OIDC_ACME_SCOPES", "email profile"),
            ("OIDC_CORP_SSO_ISSUER", "https://corp.test"),
        ])
        .unwrap();
        let names: Vec<_> = all.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["google", "github", "acme"]);
        assert_eq!(
            all[0].kind,
            UpstreamKind::Oidc {
                issuer: "https://accounts.google.com".into()
            }
        );
        assert_eq!(all[2].display_name, "Acme");
        assert_eq!(all[2].scopes, ["openid", "email", "profile"]);
        assert_eq!(
            all[2].kind,
            UpstreamKind::Oidc {
                issuer: "https://sso.acme.test/realms/main/".into()
            }
        );
    }

    #[test]
    fn bad_provider_settings_are_refused() {
        let missing_issuer = read(&[("LATCHKEY_OIDC_PROVIDERS", "acme"), ("OIDC_ACME_CLIENT_ID", "a")]);
        assert!(missing_issuer.unwrap_err().to_string().contains("OIDC_ACME_ISSUER"));
        let clash = read(&[
            ("GOOGLE_CLIENT_ID", "g"),
            ("LATCHKEY_OIDC_PROVIDERS", "google"),
            ("OIDC_GOOGLE_CLIENT_ID", "x"),
        ]);
        assert!(clash.is_err());
        assert!(read(&[("LATCHKEY_OIDC_PROVIDERS", "a/b")]).is_err());
        assert!(read(&[("GITHUB_CLIENT_ID", "h"), ("GITHUB_API_URL", "ftp://x")]).is_err());
    }
}
