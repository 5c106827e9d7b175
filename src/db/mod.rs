//! Storage: one Diesel `MultiConnection` over SQLite and PostgreSQL, pooled by r2d2.
//!
//! Diesel is synchronous, so every query goes through [`Db::run`], which takes a pooled
//! connection on a blocking thread; async workers never wait on the database.

pub mod models;
pub mod repo;
pub mod schema;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any number, the same in every process: replicas starting together take turns migrating.
const MIGRATION_LOCK_ID: i64 = 0x4c61_7463_686b_6579; // "Latchkey"

/// A connection to either backend; the query DSL works on it unchanged.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Errors of the storage layer. `NotFound` is not one: repositories return `Option`.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database task was cancelled")]
    Cancelled,
}

impl DbError {
    /// True for a UNIQUE constraint failure, on either backend.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// `DATABASE_URL` is wrong in a way no retry can fix: reported in one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadDatabaseUrl(pub String);

/// Which backend a `DATABASE_URL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite(PathBuf),
    Postgres,
}

impl Backend {
    /// Reads the scheme before any connection is tried, so a typo fails at once.
    pub fn from_url(url: &str) -> Result<Backend, BadDatabaseUrl> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() || path.contains(":memory:") {
                return Err(BadDatabaseUrl(
                    "DATABASE_URL must name a SQLite file, e.g. sqlite://data/latchkey.db".into(),
                ));
            }
            return Ok(Backend::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres);
        }
        // Only the scheme is echoed: the rest may hold a password.
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        Err(BadDatabaseUrl(format!(
            "DATABASE_URL must start with sqlite:// or postgres:// (got scheme {scheme:?})"
        )))
    }
}

/// Opens connections of the backend the URL names. (The derived `MultiConnection::establish`
/// would try every backend in turn and hide the real error, e.g. a refused connection.)
#[derive(Debug)]
struct Manager {
    backend: Backend,
    url: String,
}

impl Manager {
    fn establish(&self) -> ConnectionResult<DbConn> {
        match &self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url).map(DbConn::Postgresql),
            Backend::Sqlite(_) => {
                let mut conn = diesel::SqliteConnection::establish(&self.url)?;
                // Pragmas are per connection, so every pooled connection gets them. The busy
                // timeout comes first: switching to WAL needs a lock that another process
                // (a second replica migrating the same file) may hold for a moment.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| ConnectionError::BadConnection(format!("cannot set SQLite pragmas: {e}")))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// A connection that answered within this time is handed out again without a test query:
/// testing every checkout cost a `SELECT 1` round trip per request on PostgreSQL.
const TRUSTED_FOR: Duration = Duration::from_secs(5);

/// A pooled connection and when it last proved alive.
struct Pooled {
    conn: DbConn,
    alive_at: Instant,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let conn = self.establish().map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(Pooled {
            conn,
            alive_at: Instant::now(),
        })
    }

    /// Connections idle for longer are tested, so one dropped by a database restart or a
    /// proxy's idle timeout is replaced before a request sees it.
    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        if pooled.alive_at.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        pooled
            .conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)?;
        pooled.alive_at = Instant::now();
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(&mut pooled.conn)
    }
}

/// The connection pool, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    /// SQLite has one writer at a time; queueing writers here (instead of in SQLite's busy
    /// handler, which sleeps in growing steps) keeps write latency flat under load.
    write_gate: Option<Arc<Mutex<()>>>,
}

/// Pool occupancy, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub in_use: u32,
    pub idle: u32,
}

impl Db {
    /// Connects once (so a refused connection or bad password is reported as such, not as a
    /// pool time-out), then builds the pool. Blocking: call at start or on a blocking thread.
    pub fn connect(url: &str) -> anyhow::Result<Db> {
        let backend = Backend::from_url(url)?;
        let conn_url = match &backend {
            Backend::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
                }
                path.to_string_lossy().into_owned()
            }
            Backend::Postgres => url.to_owned(),
        };
        let manager = Manager {
            backend: backend.clone(),
            url: conn_url,
        };
        manager.establish().map_err(|e| {
            // libpq's messages span lines; the CLI promises one.
            let msg = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            anyhow::anyhow!("cannot connect to the database: {msg}")
        })?;
        let size = match backend {
            // One writer at a time in SQLite: more connections only queue on its lock.
            Backend::Sqlite(_) => 8,
            Backend::Postgres => 16,
        };
        let pool = Pool::builder()
            .max_size(size)
            // No background top-up of idle connections: r2d2 would open them on its own threads,
            // and a libpq/TLS connect racing process exit crashes in OpenSSL's exit handlers.
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(5))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot open the database pool: {e}"))?;
        let write_gate = matches!(backend, Backend::Sqlite(_)).then(|| Arc::new(Mutex::new(())));
        Ok(Db {
            pool,
            backend,
            write_gate,
        })
    }

    /// Which backend this pool talks to.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    {
        self.on_blocking_thread(None, f).await
    }

    /// Like [`Db::run`], for work that writes: on SQLite, writers of this process take turns.
    pub async fn run_write<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    {
        self.on_blocking_thread(self.write_gate.clone(), f).await
    }

    /// The turn (if any) is taken on the blocking thread, before a connection is checked
    /// out, and held exactly while `f` runs. (An async permit stayed held while the blocking
    /// thread was being scheduled and until the waiting task was polled again, which on a
    /// busy machine left the one SQLite writer idle between transactions.)
    async fn on_blocking_thread<T, F>(&self, gate: Option<Arc<Mutex<()>>>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            // A poisoned gate only means a writer panicked; SQLite rolled its work back.
            let _turn = gate.as_ref().map(|g| g.lock().unwrap_or_else(PoisonError::into_inner));
            let mut pooled = pool.get()?;
            let result = f(&mut pooled.conn);
            if result.is_ok() {
                pooled.alive_at = Instant::now();
            }
            result
        })
        .await
        .map_err(|_| DbError::Cancelled)?
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock makes replicas that start
    /// together take turns, so the schema is applied once. Blocking.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut pooled: PooledConnection<_> = self.pool.get()?;
        let applied = match &mut pooled.conn {
            // An exclusive transaction is SQLite's advisory lock: a second process starting on
            // the same file waits (busy_timeout), then finds the migrations applied.
            DbConn::Sqlite(c) => c.exclusive_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(versions)),
            DbConn::Postgresql(c) => {
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_ID})")).execute(c)?;
                let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(versions);
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})")).execute(c)?;
                result
            }
        };
        applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
    }

    /// Readiness: the database answers a query within two seconds, and, for SQLite, its file
    /// is still where it was (a deleted file would lose every write made from now on).
    pub async fn ping(&self) -> bool {
        let pool = self.pool.clone();
        let backend = self.backend.clone();
        let answered = tokio::task::spawn_blocking(move || {
            if let Backend::Sqlite(path) = &backend
                && !path.exists()
            {
                return false;
            }
            let Ok(mut pooled) = pool.get_timeout(Duration::from_secs(2)) else {
                return false;
            };
            diesel::sql_query("SELECT 1").execute(&mut pooled.conn).is_ok()
        })
        .await;
        answered.unwrap_or(false)
    }

    /// Connections in use and idle.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            in_use: state.connections - state.idle_connections,
            idle: state.idle_connections,
        }
    }
}

fn versions(v: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    v.into_iter().map(|v| v.to_string()).collect()
}
