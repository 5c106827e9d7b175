//! Admin console: signing keys. The rules (what rotation makes, which key may be retired)
//! live in [`crate::crypto::keys`], shared with `latchkey keys`; this adds the audit event
//! and makes the running server pick the change up at once.

use serde_json::json;

use crate::crypto::keys::{self, KeyInfo, RetireError};
use crate::db::repo;
use crate::error::AppError;
use crate::startup::AppState;

/// Every key with its state, newest first. The folder is read on a blocking thread.
pub async fn list(state: &AppState) -> Result<Vec<KeyInfo>, AppError> {
    let dir = state.settings.keys_dir.clone();
    Ok(tokio::task::spawn_blocking(move || keys::list(&dir))
        .await
        .map_err(|e| AppError::Internal(e.into()))??)
}

/// Makes a new key, published at once and signing after `LATCHKEY_KEY_PREPUBLISH`.
pub async fn rotate(state: &AppState, actor: &str) -> Result<KeyInfo, AppError> {
    let (dir, prepublish) = (state.settings.keys_dir.clone(), state.settings.key_prepublish);
    let store = state.keys.clone();
    let info = tokio::task::spawn_blocking(move || -> anyhow::Result<KeyInfo> {
        let info = keys::rotate(&dir, prepublish)?;
        reload(&store);
        Ok(info)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    audit(state, "key.rotated", actor, &info).await?;
    Ok(info)
}

/// Unpublishes a key and deletes its private key. The active key (and an unknown or already
/// retired one) is refused with [`AppError::Conflict`] and the reason.
pub async fn retire(state: &AppState, actor: &str, kid: &str) -> Result<KeyInfo, AppError> {
    let dir = state.settings.keys_dir.clone();
    let store = state.keys.clone();
    let kid = kid.to_owned();
    let result = tokio::task::spawn_blocking(move || {
        let info = keys::retire(&dir, &kid)?;
        reload(&store);
        Ok::<_, RetireError>(info)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let info = match result {
        Ok(info) => info,
        Err(RetireError::Refused(why)) => return Err(AppError::Conflict(why)),
        Err(RetireError::Failed(err)) => return Err(AppError::Internal(err)),
    };
    audit(state, "key.retired", actor, &info).await?;
    Ok(info)
}

/// Makes this process serve the changed folder now instead of at its next timed refresh.
/// A failure is only logged: the change is on disk, and the timer retries every 5 s.
fn reload(store: &keys::KeyStore) {
    if let Err(err) = store.refresh(chrono::Utc::now()) {
        tracing::warn!(error = format!("{err:#}"), "key reload after an admin change failed");
    }
}

/// The change is on disk, outside any transaction, so its event is written right after it.
async fn audit(state: &AppState, kind: &'static str, actor: &str, info: &KeyInfo) -> Result<(), AppError> {
    let event = crate::service::audit::event(
        kind,
        actor,
        Some(&info.kid),
        json!({ "kid": info.kid, "activates_at": info.activates_at.to_rfc3339() }),
    );
    state
        .db
        .run_write(move |conn| Ok(repo::audit::insert(conn, &event)?))
        .await?;
    Ok(())
}
