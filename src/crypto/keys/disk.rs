//! The keys folder: finding, generating, listing and retiring key files. Blocking file I/O.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use josekit::jwk::KeyPair;
use josekit::jws::RS256;
use sha2::{Digest, Sha256};

use super::{KeyInfo, KeyMeta, KeyState, pick_active};
use crate::crypto::b64url;

/// RSA modulus size for generated keys.
const KEY_BITS: u32 = 2048;

/// A key file found on disk, before parsing.
pub(super) struct KeyFile {
    pub(super) kid: String,
    pub(super) pem_path: PathBuf,
    pub(super) meta: KeyMeta,
}

/// Sorted (name, size, mtime) of every file in the folder.
pub(super) fn listing(dir: &Path) -> anyhow::Result<Vec<(String, u64, Option<std::time::SystemTime>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read keys folder {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        out.push((
            entry.file_name().to_string_lossy().into_owned(),
            meta.len(),
            meta.modified().ok(),
        ));
    }
    out.sort();
    Ok(out)
}

/// Finds keys: `<stem>.json` metadata beside `<stem>.pem` (keys we generated: stem = kid),
/// or a bare PEM placed by an operator, which counts as active since its file was written.
pub(super) fn scan(dir: &Path) -> anyhow::Result<Vec<KeyFile>> {
    let mut files = Vec::new();
    for (name, _, modified) in listing(dir)? {
        let path = dir.join(&name);
        if let Some(stem) = name.strip_suffix(".json").filter(|s| !s.starts_with('.')) {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read key metadata {}", path.display()))?;
            let meta: KeyMeta =
                serde_json::from_str(&text).with_context(|| format!("key metadata {} is not valid", path.display()))?;
            files.push(KeyFile {
                kid: meta.kid.clone(),
                pem_path: dir.join(format!("{stem}.pem")),
                meta,
            });
        } else if let Some(stem) = name.strip_suffix(".pem")
            && !dir.join(format!("{stem}.json")).exists()
        {
            let (kid, _, _) = public_parts(&path)?;
            let created_at = modified.map(DateTime::<Utc>::from).unwrap_or_else(Utc::now);
            let meta = KeyMeta {
                kid: kid.clone(),
                created_at,
                activates_at: created_at,
                retired_at: None,
            };
            files.push(KeyFile {
                kid,
                pem_path: path,
                meta,
            });
        }
    }
    Ok(files)
}

/// Reads a PEM file and returns its thumbprint, `n` and `e`. The error names the file.
pub(super) fn public_parts(path: &Path) -> anyhow::Result<(String, String, String)> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read signing key {}", path.display()))?;
    let pair = RS256
        .key_pair_from_pem(&pem)
        .with_context(|| format!("signing key {} is not a valid RSA private key", path.display()))?;
    let jwk = pair.to_jwk_public_key();
    let (Some(n), Some(e)) = (
        jwk.parameter("n").and_then(|v| v.as_str()),
        jwk.parameter("e").and_then(|v| v.as_str()),
    ) else {
        bail!("signing key {} has no RSA public components", path.display());
    };
    Ok((thumbprint(n, e), n.to_owned(), e.to_owned()))
}

/// RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// Generates a new RSA key into the folder; it starts signing after `prepublish`.
pub fn generate(dir: &Path, prepublish: std::time::Duration) -> anyhow::Result<KeyInfo> {
    let pair = RS256
        .generate_key_pair(KEY_BITS)
        .context("cannot generate an RSA key")?;
    let jwk = pair.to_jwk_public_key();
    let n = jwk.parameter("n").and_then(|v| v.as_str()).unwrap_or_default();
    let e = jwk.parameter("e").and_then(|v| v.as_str()).unwrap_or_default();
    let kid = thumbprint(n, e);
    let created_at = Utc::now();
    let activates_at =
        created_at + chrono::Duration::from_std(prepublish).context("LATCHKEY_KEY_PREPUBLISH is too long")?;
    let meta = KeyMeta {
        kid: kid.clone(),
        created_at,
        activates_at,
        retired_at: None,
    };
    let pem_path = dir.join(format!("{kid}.pem"));
    crate::crypto::write_private_file(&pem_path, &pair.to_pem_private_key())
        .with_context(|| format!("cannot write {}", pem_path.display()))?;
    write_meta(&dir.join(format!("{kid}.json")), &meta)?;
    let state = if prepublish.is_zero() {
        KeyState::Active
    } else {
        KeyState::Published
    };
    Ok(KeyInfo {
        kid,
        created_at,
        activates_at,
        state,
    })
}

/// Writes `<stem>.json` through a temporary file and a rename.
fn write_meta(path: &Path, meta: &KeyMeta) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let text = serde_json::to_vec_pretty(meta)?;
    crate::crypto::write_private_file(&tmp, &text).with_context(|| format!("cannot write {}", tmp.display()))?;
    // Rename is atomic: a node reading the folder sees the old or the new metadata, never half.
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Every key in the folder with its state now, newest first.
pub fn list(dir: &Path) -> anyhow::Result<Vec<KeyInfo>> {
    let files = scan(dir)?;
    let active = pick_active(files.iter().map(|f| (f.kid.as_str(), &f.meta)), Utc::now()).map(str::to_owned);
    let mut out: Vec<KeyInfo> = files
        .into_iter()
        .map(|f| KeyInfo {
            state: if f.meta.retired_at.is_some() {
                KeyState::Retired
            } else if Some(&f.kid) == active.as_ref() {
                KeyState::Active
            } else {
                KeyState::Published
            },
            kid: f.kid,
            created_at: f.meta.created_at,
            activates_at: f.meta.activates_at,
        })
        .collect();
    out.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    Ok(out)
}

/// Why a retirement was not done. `Refused` is the operator's mistake (its message says
/// what to do); `Failed` is the folder's fault.
#[derive(Debug, thiserror::Error)]
pub enum RetireError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Makes a new key the way `latchkey keys rotate` and the admin console do: the folder is
/// created if missing, the key is published at once and signs after `prepublish`
/// (`LATCHKEY_KEY_PREPUBLISH`).
pub fn rotate(dir: &Path, prepublish: std::time::Duration) -> anyhow::Result<KeyInfo> {
    crate::crypto::create_private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    generate(dir, prepublish)
}

/// Removes a key from the JWKS and deletes its private key. Refuses the active key.
pub fn retire(dir: &Path, kid: &str) -> Result<KeyInfo, RetireError> {
    let refused = |why: String| Err(RetireError::Refused(why));
    let Some(info) = list(dir)?.into_iter().find(|k| k.kid == kid) else {
        return refused(format!("no signing key with kid {kid}"));
    };
    match info.state {
        KeyState::Active => {
            return refused(format!(
                "key {kid} is the active signing key; rotate first, then retire it"
            ));
        }
        KeyState::Retired => return refused(format!("key {kid} is already retired")),
        KeyState::Published => {}
    }
    let Some(file) = scan(dir)?.into_iter().find(|f| f.kid == kid) else {
        return refused(format!("no signing key with kid {kid}"));
    };
    let meta = KeyMeta {
        retired_at: Some(Utc::now()),
        ..file.meta
    };
    // The metadata is written first: if deleting the PEM fails, the key is already unpublished.
    write_meta(&file.pem_path.with_extension("json"), &meta)?;
    std::fs::remove_file(&file.pem_path).with_context(|| format!("cannot delete {}", file.pem_path.display()))?;
    Ok(KeyInfo {
        state: KeyState::Retired,
        ..info
    })
}
