//! Settings: read from the environment (and `.env`) once at start, validated, then carried
//! in the application state. Nothing reads the environment after this module.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

mod upstream;
pub use upstream::{UpstreamKind, UpstreamProvider};

/// Which rules apply: production refuses weak secrets and plain-HTTP issuers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Who may create an account (`LATCHKEY_SIGNUP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupPolicy {
    Open,
    Closed,
    Domains(Vec<String>),
}

/// Log line format (`LATCHKEY_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Token and session lifetimes.
#[derive(Debug, Clone)]
pub struct Lifetimes {
    pub access_token: Duration,
    pub refresh_token: Duration,
    pub id_token: Duration,
    pub session: Duration,
    pub email_verify: Duration,
}

/// Brute-force protection: per-address lockout and per-IP rate limit.
#[derive(Debug, Clone)]
pub struct BruteForce {
    /// Failures within `lockout_duration` that lock an address (`LATCHKEY_LOCKOUT_THRESHOLD`).
    pub lockout_threshold: u32,
    /// The counting window and the length of a lock (`LATCHKEY_LOCKOUT_DURATION`).
    pub lockout_duration: Duration,
    /// Failures after which each further attempt must wait 1 s, 2 s, 4 s... (not a variable).
    pub delay_after: u32,
    /// The longest of those waits (not a variable).
    pub max_delay: Duration,
    /// Requests per minute per client IP over the sign-in, sign-up, forgot-password and
    /// resend-verification forms (`LATCHKEY_LOGIN_RATE`).
    pub login_rate: u32,
}

/// Every setting of the process. `Debug` never shows a secret: they are `SecretString`s.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// Public base URL without a trailing slash; the `iss` of every token.
    pub issuer: String,
    pub bind: String,
    pub database_url: SecretString,
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    /// Cookie signing and encryption key material (>= 32 bytes).
    pub secret: SecretString,
    pub lifetimes: Lifetimes,
    pub signup: SignupPolicy,
    pub require_verified_email: bool,
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a freshly rotated key is published before it starts signing.
    pub key_prepublish: Duration,
    /// How often a running server re-reads the keys folder (also on SIGHUP). Not an
    /// environment variable: 5 s is short enough for rotations and cheap.
    pub key_refresh: Duration,
    pub log_format: LogFormat,
    /// Where mail goes (`SMTP_URL`, a lettre SMTP URL that may hold a password); none: `.eml`
    /// files in `DATA_DIR/outbox`.
    pub smtp_url: Option<SecretString>,
    /// The sender of every message (`MAIL_FROM`).
    pub mail_from: String,
    /// How often the mail sender polls the outbox when it is empty. Not an environment
    /// variable (nor the next one): tests shorten them.
    pub mail_poll: Duration,
    /// A failed send is retried after 2^attempts times this (capped at ten minutes).
    pub mail_retry_base: Duration,
    /// Rules for passwords people choose (`LATCHKEY_PASSWORD_MIN_LENGTH`, default 8).
    pub password_policy: crate::domain::PasswordPolicy,
    /// Lockout and per-IP rate limit (`LATCHKEY_LOCKOUT_*`, `LATCHKEY_LOGIN_RATE`).
    pub brute_force: BruteForce,
    /// What the brute-force rules call now; tests advance it instead of sleeping.
    pub clock: crate::clock::Clock,
    /// Upstream sign-in providers that are on (`GOOGLE_*`, `GITHUB_*`, `OIDC_<NAME>_*`).
    pub upstream: Vec<UpstreamProvider>,
    /// The longest wait for an upstream provider's answer. Not an environment variable:
    /// 10 s is what a person will wait; tests shorten it.
    pub upstream_timeout: Duration,
}

/// A source of variables: the process environment in `main`, a map in tests.
pub type Vars = HashMap<String, String>;

/// Reads the process environment, after loading `.env` if there is one.
pub fn process_vars() -> Vars {
    // A missing .env is normal; a malformed one is reported when it is parsed.
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("warning: .env ignored: {err}");
    }
    std::env::vars().collect()
}

impl Settings {
    /// Builds settings from variables, without touching the disk. The development secret is
    /// filled in by [`Settings::ensure_dev_secret`] once the data folder may be written.
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Settings> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let environment = match get("LATCHKEY_ENV").unwrap_or("development") {
            "development" => Environment::Development,
            "production" => Environment::Production,
            other => bail!("LATCHKEY_ENV must be development or production, not {other:?}"),
        };
        let issuer = parse_issuer(get("LATCHKEY_ISSUER").unwrap_or("http://127.0.0.1:8080"))?;
        let duration = |name: &str, default: &str| -> anyhow::Result<Duration> {
            parse_duration(get(name).unwrap_or(default)).with_context(|| format!("{name} is not a duration"))
        };
        let lifetimes = Lifetimes {
            access_token: duration("ACCESS_TOKEN_TTL", "15m")?,
            refresh_token: duration("REFRESH_TOKEN_TTL", "30d")?,
            id_token: duration("ID_TOKEN_TTL", "15m")?,
            session: duration("SESSION_TTL", "7d")?,
            email_verify: duration("EMAIL_VERIFY_TTL", "24h")?,
        };
        let signup = match get("LATCHKEY_SIGNUP").unwrap_or("open") {
            "open" => SignupPolicy::Open,
            "closed" => SignupPolicy::Closed,
            other => match other.strip_prefix("domains:") {
                Some(list) => SignupPolicy::Domains(
                    list.split(',')
                        .map(|d| d.trim().to_ascii_lowercase())
                        .filter(|d| !d.is_empty())
                        .collect(),
                ),
                None => bail!("LATCHKEY_SIGNUP must be open, closed or domains:a.com,b.org"),
            },
        };
        let require_verified_email = match get("LATCHKEY_REQUIRE_VERIFIED_EMAIL").unwrap_or("true") {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            other => bail!("LATCHKEY_REQUIRE_VERIFIED_EMAIL must be true or false, not {other:?}"),
        };
        let trusted_proxies = get("LATCHKEY_TRUSTED_PROXIES")
            .map(|list| {
                list.split(',')
                    .map(|ip| {
                        ip.trim()
                            .parse::<IpAddr>()
                            .with_context(|| format!("LATCHKEY_TRUSTED_PROXIES: {ip:?} is not an IP address"))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        let log_format = match get("LATCHKEY_LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => bail!("LATCHKEY_LOG_FORMAT must be text or json, not {other:?}"),
        };
        let min_length = match get("LATCHKEY_PASSWORD_MIN_LENGTH").map(str::parse::<usize>) {
            None => 8,
            Some(Ok(n)) if (8..=crate::domain::MAX_PASSWORD_LEN).contains(&n) => n,
            Some(_) => bail!("LATCHKEY_PASSWORD_MIN_LENGTH must be a number from 8 to 128"),
        };
        let password_policy = crate::domain::PasswordPolicy {
            min_length,
            ..Default::default()
        };
        let count = |name: &str, default: u32| -> anyhow::Result<u32> {
            match get(name).map(str::parse::<u32>) {
                None => Ok(default),
                Some(Ok(n)) if n >= 1 => Ok(n),
                Some(_) => bail!("{name} must be a whole number of at least 1"),
            }
        };
        let brute_force = BruteForce {
            lockout_threshold: count("LATCHKEY_LOCKOUT_THRESHOLD", 10)?,
            lockout_duration: duration("LATCHKEY_LOCKOUT_DURATION", "15m")?,
            delay_after: 5,
            max_delay: Duration::from_secs(60),
            login_rate: count("LATCHKEY_LOGIN_RATE", 30)?,
        };
        if brute_force.lockout_duration.is_zero() {
            bail!("LATCHKEY_LOCKOUT_DURATION must be longer than 0");
        }
        let smtp_url = get("SMTP_URL").map(SecretString::from);
        let mail_from = get("MAIL_FROM").unwrap_or(crate::mail::DEFAULT_FROM).to_owned();
        crate::mail::check_settings(smtp_url.as_ref().map(|u| u.expose_secret()), &mail_from)?;
        let upstream = upstream::from_vars(&|name| get(name).map(str::to_owned))?;
        let settings = Settings {
            environment,
            issuer,
            bind: get("LATCHKEY_BIND").unwrap_or("127.0.0.1:8080").to_owned(),
            database_url: SecretString::from(get("DATABASE_URL").unwrap_or("sqlite://data/latchkey.db")),
            data_dir: PathBuf::from(get("LATCHKEY_DATA_DIR").unwrap_or("data")),
            keys_dir: PathBuf::from(get("LATCHKEY_KEYS_DIR").unwrap_or("keys")),
            secret: SecretString::from(get("LATCHKEY_SECRET").unwrap_or_default()),
            lifetimes,
            signup,
            require_verified_email,
            trusted_proxies,
            key_prepublish: duration("LATCHKEY_KEY_PREPUBLISH", "0s")?,
            key_refresh: Duration::from_secs(5),
            log_format,
            smtp_url,
            mail_from,
            mail_poll: Duration::from_secs(1),
            mail_retry_base: Duration::from_secs(1),
            password_policy,
            brute_force,
            clock: crate::clock::Clock::default(),
            upstream,
            upstream_timeout: Duration::from_secs(10),
        };
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.environment == Environment::Production {
            if self.secret.expose_secret().len() < 32 {
                bail!("LATCHKEY_SECRET must be set to at least 32 bytes when LATCHKEY_ENV=production");
            }
            if self.issuer.starts_with("http://") && !is_loopback_url(&self.issuer) {
                bail!(
                    "LATCHKEY_ISSUER must use https when LATCHKEY_ENV=production (http is allowed only for loopback)"
                );
            }
        } else if !self.secret.expose_secret().is_empty() && self.secret.expose_secret().len() < 32 {
            bail!("LATCHKEY_SECRET must be at least 32 bytes");
        }
        Ok(())
    }

    /// In development with no `LATCHKEY_SECRET`, uses (or creates, mode 0600) `DATA_DIR/secret`
    /// so cookies survive a restart without anyone having to invent a secret.
    pub fn ensure_dev_secret(&mut self) -> anyhow::Result<()> {
        if !self.secret.expose_secret().is_empty() {
            return Ok(());
        }
        let path = self.data_dir.join("secret");
        let secret = match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().to_owned(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let secret = crate::crypto::random_token(48);
                crate::crypto::write_private_file(&path, secret.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                secret
            }
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        if secret.len() < 32 {
            bail!("{} holds a secret shorter than 32 bytes", path.display());
        }
        self.secret = SecretString::from(secret);
        Ok(())
    }

    /// Whether cookies must carry `Secure`.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The SQLite file or PostgreSQL URL, for the storage layer only.
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// The data folder, created on demand.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

fn parse_issuer(raw: &str) -> anyhow::Result<String> {
    let url = Url::parse(raw).with_context(|| format!("LATCHKEY_ISSUER {raw:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("LATCHKEY_ISSUER must be an http(s) URL with a host");
    }
    // OIDC Discovery §4.3: the issuer has no query or fragment.
    if url.query().is_some() || url.fragment().is_some() {
        bail!("LATCHKEY_ISSUER must not have a query or fragment");
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// `15m`, `30d`, `24h`, `0`: humantime's grammar, plus a bare zero.
pub fn parse_duration(raw: &str) -> anyhow::Result<Duration> {
    if raw == "0" {
        return Ok(Duration::ZERO);
    }
    Ok(humantime::parse_duration(raw)?)
}

/// True for `http://127.0.0.1...`, `http://[::1]...` and `http://localhost...`.
pub fn is_loopback_url(raw: &str) -> bool {
    let Ok(url) = Url::parse(raw) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = Settings::from_vars(&Vars::new()).unwrap();
        assert_eq!(s.issuer, "http://127.0.0.1:8080");
        assert_eq!(s.lifetimes.access_token, Duration::from_secs(900));
        assert_eq!(s.lifetimes.refresh_token, Duration::from_secs(30 * 86400));
        assert_eq!(s.key_prepublish, Duration::ZERO);
        assert_eq!(s.signup, SignupPolicy::Open);
        assert_eq!(s.brute_force.lockout_threshold, 10);
        assert_eq!(s.brute_force.lockout_duration, Duration::from_secs(900));
        assert_eq!(s.brute_force.login_rate, 30);
    }

    #[test]
    fn production_refuses_weak_secret_and_plain_http() {
        let err = Settings::from_vars(&vars(&[
            ("LATCHKEY_ENV", "production"),
            ("LATCHKEY_ISSUER", "https://id.example.com"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("LATCHKEY_SECRET"));
        let long = "x".repeat(40);
        let err = Settings::from_vars(&vars(&[
            ("LATCHKEY_ENV", "production"),
            ("LATCHKEY_SECRET", &long),
            ("LATCHKEY_ISSUER", "http://id.example.com"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("https"));
        Settings::from_vars(&vars(&[
            ("LATCHKEY_ENV", "production"),
            ("LATCHKEY_SECRET", &long),
            ("LATCHKEY_ISSUER", "http://127.0.0.1:9000/"),
        ]))
        .unwrap();
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let long = "super-secret-value-that-is-long-enough";
        let s = Settings::from_vars(&vars(&[
            ("LATCHKEY_SECRET", long),
            ("DATABASE_URL", "postgres://u:hunter2@db/latchkey"),
        ]))
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains(long));
        assert!(!debug.contains("hunter2"));
    }

    #[test]
    fn signup_domains_are_parsed() {
        let s = Settings::from_vars(&vars(&[("LATCHKEY_SIGNUP", "domains:Example.com, b.org")])).unwrap();
        assert_eq!(
            s.signup,
            SignupPolicy::Domains(vec!["example.com".into(), "b.org".into()])
        );
    }
}
