//! Builds the application: settings -> migrated database, keys, metrics -> HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;

use crate::config::Settings;
use crate::crypto::keys::KeyStore;
use crate::db::Db;
use crate::service::login::PasswordHasher;
use crate::telemetry::Metrics;

/// Everything a request handler may use. Cheap to clone (all shared).
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub keys: Arc<KeyStore>,
    /// The discovery document, serialized once at start.
    pub discovery: Bytes,
    pub metrics: Metrics,
    pub hasher: PasswordHasher,
    /// Sends what the background mail sender takes from the outbox; pages call
    /// [`crate::mail::enqueue`] instead.
    pub mailer: crate::mail::Mailer,
    /// Upstream sign-in providers (Google, GitHub, generic OpenID) and their HTTP client.
    pub upstreams: Arc<crate::service::upstream::Upstreams>,
}

/// Opens the database (migrating it) and the keys folder. Blocking work runs on blocking
/// threads. Errors name what is wrong in one line.
pub async fn prepare(settings: Settings) -> anyhow::Result<AppState> {
    let mut settings = settings;
    let (db, keys, hasher, settings) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        settings.ensure_dev_secret()?;
        let db = Db::connect(settings.database_url())?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        let keys = KeyStore::open(&settings.keys_dir)?;
        Ok((db, keys, PasswordHasher::new()?, settings))
    })
    .await
    .context("start-up task failed")??;
    let mailer = crate::mail::Mailer::from_settings(&settings)?;
    let upstreams = Arc::new(crate::service::upstream::Upstreams::new(&settings)?);
    let discovery = Bytes::from(serde_json::to_vec(&crate::http::discovery::document(&settings.issuer))?);
    Ok(AppState {
        settings: Arc::new(settings),
        db,
        keys: Arc::new(keys),
        discovery,
        metrics: Metrics::new()?,
        hasher,
        mailer,
        upstreams,
    })
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
}

impl Application {
    /// Prepares the state and binds `LATCHKEY_BIND` (port 0 picks a free port, for tests).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let bind = settings.bind.clone();
        let listener = TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
        Application::build_on(settings, listener).await
    }

    /// Prepares the state and serves on a listener bound by the caller (tests that must know
    /// the port before the issuer is set).
    pub async fn build_on(settings: Settings, listener: TcpListener) -> anyhow::Result<Application> {
        let state = prepare(settings).await?;
        let port = listener.local_addr()?.port();
        spawn_key_refresher(state.keys.clone(), state.settings.key_refresh);
        spawn_housekeeping(state.db.clone());
        crate::mail::spawn_sender(
            state.db.clone(),
            state.mailer.clone(),
            crate::mail::SenderOptions::from_settings(&state.settings),
        );
        let server = crate::http::server(state, listener)?;
        tracing::info!(port, "listening");
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT, then finishes in-flight requests (up to 30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Picks up key rotations made on disk (by `latchkey keys rotate`, or another replica's
/// operator) every `every`, and at once on SIGHUP.
fn spawn_key_refresher(keys: Arc<KeyStore>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        #[cfg(unix)]
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            match hangup.as_mut() {
                Some(signal) => {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = signal.recv() => tracing::info!("SIGHUP: re-reading signing keys"),
                    }
                }
                None => {
                    tick.tick().await;
                }
            }
            #[cfg(not(unix))]
            tick.tick().await;
            let store = keys.clone();
            match tokio::task::spawn_blocking(move || store.refresh(chrono::Utc::now())).await {
                Ok(Ok(true)) => {
                    tracing::info!(kid = %keys.current().active().kid, "signing keys changed")
                }
                Ok(Ok(false)) => {}
                Ok(Err(err)) => tracing::error!(
                    error = format!("{err:#}"),
                    "cannot re-read signing keys; keeping the current ones"
                ),
                Err(_) => {}
            }
        }
    });
}

/// Purges expired rows every ten minutes. Every replica runs it; the deletes are idempotent.
fn spawn_housekeeping(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match crate::service::maintenance::purge_expired(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "purged expired rows"),
                Err(err) => tracing::warn!(error = %err, "housekeeping failed"),
            }
        }
    });
}
