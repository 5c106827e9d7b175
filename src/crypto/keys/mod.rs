//! Signing keys on disk and in memory.
//!
//! Each key is `KEYS_DIR/<kid>.pem` (PKCS#8, mode 0600) with a sidecar `<kid>.json` holding
//! when it was created, when it starts signing and when it was retired. Every node reads the
//! same folder, so a rotation made by `latchkey keys rotate` reaches every replica through
//! [`KeyStore::refresh`], which the server runs on a timer and on SIGHUP.
//!
//! PEM files are parsed once into a josekit signer (OpenSSL key, kept for the life of the
//! key) and a jsonwebtoken decoding key; JWKS bytes are built once per change of the set.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use josekit::jws::RS256;
use josekit::jws::alg::rsassa::RsassaJwsSigner;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::b64url;

mod disk;

pub use disk::{RetireError, generate, list, retire, rotate};
use disk::{listing, public_parts, scan};

/// What a key is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Signs new tokens (and is published).
    Active,
    /// In the JWKS so verifiers know it, but not signing: waiting to start, or superseded.
    Published,
    /// Gone from the JWKS; its private key has been deleted.
    Retired,
}

/// The sidecar metadata of one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
    /// The RFC 7638 thumbprint of the key; checked against the PEM when it is loaded.
    pub kid: String,
    pub created_at: DateTime<Utc>,
    pub activates_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<DateTime<Utc>>,
}

/// One line of `latchkey keys list`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    pub activates_at: DateTime<Utc>,
    pub state: KeyState,
}

/// A usable key: parsed once, shared by every request.
pub struct LoadedKey {
    pub kid: String,
    pub meta: KeyMeta,
    pub(in crate::crypto) signer: RsassaJwsSigner,
    pub(in crate::crypto) decoding: jsonwebtoken::DecodingKey,
    /// The public JWK members `n` and `e`.
    n: String,
    e: String,
}

/// The keys in force at one moment, with the JWKS document built from them.
pub struct KeySet {
    /// Published keys, the active one first.
    keys: Vec<Arc<LoadedKey>>,
    /// Names, sizes and times of the files this set was read from, to notice changes cheaply.
    listing: Vec<(String, u64, Option<std::time::SystemTime>)>,
    jwks: Bytes,
    etag: String,
}

impl KeySet {
    fn build(
        mut keys: Vec<Arc<LoadedKey>>,
        listing: Vec<(String, u64, Option<std::time::SystemTime>)>,
        now: DateTime<Utc>,
    ) -> KeySet {
        let active = select_active(&keys, now);
        // Active first, then newest first: what a reader of the JWKS expects to see.
        keys.sort_by(|a, b| {
            (b.kid == active)
                .cmp(&(a.kid == active))
                .then(b.meta.activates_at.cmp(&a.meta.activates_at))
        });
        let jwks = serde_json::json!({
            "keys": keys.iter().map(|k| serde_json::json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid, "n": k.n, "e": k.e,
            })).collect::<Vec<_>>()
        });
        let jwks = Bytes::from(serde_json::to_vec(&jwks).unwrap_or_default());
        let etag = format!("\"{}\"", &b64url(&Sha256::digest(&jwks))[..22]);
        KeySet {
            keys,
            listing,
            jwks,
            etag,
        }
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &LoadedKey {
        // `load_dir` refuses an empty set, so there is always a first key.
        &self.keys[0]
    }

    /// Every published key, the active one first.
    pub fn published(&self) -> &[Arc<LoadedKey>] {
        &self.keys
    }

    /// A published key by `kid`, for verification.
    pub fn find(&self, kid: &str) -> Option<&LoadedKey> {
        self.keys.iter().find(|k| k.kid == kid).map(|k| k.as_ref())
    }

    /// The JWKS document, serialized once; cloning shares the bytes.
    pub fn jwks(&self) -> Bytes {
        self.jwks.clone()
    }

    /// Strong validator for the JWKS bytes.
    pub fn etag(&self) -> &str {
        &self.etag
    }
}

fn select_active(keys: &[Arc<LoadedKey>], now: DateTime<Utc>) -> String {
    pick_active(keys.iter().map(|k| (k.kid.as_str(), &k.meta)), now)
        .unwrap_or_default()
        .to_owned()
}

/// Among live keys: the newest whose start time has come; if none has come yet, the
/// earliest to start (a folder holding only pre-published keys can still sign).
fn pick_active<'a>(keys: impl Iterator<Item = (&'a str, &'a KeyMeta)> + Clone, now: DateTime<Utc>) -> Option<&'a str> {
    let live = keys.filter(|(_, m)| m.retired_at.is_none());
    live.clone()
        .filter(|(_, m)| m.activates_at <= now)
        .max_by_key(|(_, m)| (m.activates_at, m.created_at))
        .or_else(|| live.min_by_key(|(_, m)| m.activates_at))
        .map(|(kid, _)| kid)
}

/// The shared, swappable key set of a running process.
pub struct KeyStore {
    dir: PathBuf,
    current: RwLock<Arc<KeySet>>,
}

impl KeyStore {
    /// Opens the keys folder, generating a first key if it holds none. A key file that cannot
    /// be read stops the start with a message naming it; nothing is ever regenerated over it.
    pub fn open(dir: &Path) -> anyhow::Result<KeyStore> {
        super::create_private_dir(dir).with_context(|| format!("cannot create keys folder {}", dir.display()))?;
        if scan(dir)?.iter().all(|f| f.meta.retired_at.is_some()) {
            generate(dir, std::time::Duration::ZERO)?;
        }
        let set = load_dir(dir, Utc::now())?;
        Ok(KeyStore {
            dir: dir.to_owned(),
            current: RwLock::new(Arc::new(set)),
        })
    }

    /// The keys in force now. Cheap: an `Arc` clone under a read lock.
    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the folder if its files changed, and re-selects the active key for `now`
    /// (a pre-published key starts signing once its time has come). Blocking file I/O:
    /// run on a blocking thread. Returns whether the set changed. On error the old set stays.
    pub fn refresh(&self, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let current = self.current();
        let listing = listing(&self.dir)?;
        let files_changed = listing != current.listing;
        let next = if files_changed {
            load_dir(&self.dir, now)?
        } else if select_active(&current.keys, now) != current.active().kid {
            KeySet::build(current.keys.clone(), listing, now)
        } else {
            return Ok(false);
        };
        let changed = next.jwks != current.jwks;
        match self.current.write() {
            Ok(mut guard) => *guard = Arc::new(next),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(next),
        }
        Ok(changed || files_changed)
    }
}

fn load_dir(dir: &Path, now: DateTime<Utc>) -> anyhow::Result<KeySet> {
    let listing = listing(dir)?;
    let mut keys = Vec::new();
    for file in scan(dir)?.into_iter().filter(|f| f.meta.retired_at.is_none()) {
        keys.push(Arc::new(load_key(&file.pem_path, file.meta)?));
    }
    if keys.is_empty() {
        bail!("no usable signing key in {}", dir.display());
    }
    Ok(KeySet::build(keys, listing, now))
}

/// Parses one PEM file into a signer and a verifier. The error names the file.
fn load_key(path: &Path, meta: KeyMeta) -> anyhow::Result<LoadedKey> {
    let (kid, n, e) = public_parts(path)?;
    if kid != meta.kid {
        bail!(
            "signing key {} does not match its metadata (kid {})",
            path.display(),
            meta.kid
        );
    }
    let pem = std::fs::read(path).with_context(|| format!("cannot read signing key {}", path.display()))?;
    let mut signer = RS256
        .signer_from_pem(&pem)
        .with_context(|| format!("signing key {} is not usable", path.display()))?;
    signer.set_key_id(kid.clone());
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(&n, &e)
        .with_context(|| format!("signing key {} has an unusable public key", path.display()))?;
    Ok(LoadedKey {
        kid,
        meta,
        signer,
        decoding,
        n,
        e,
    })
}
