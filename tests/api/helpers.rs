use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use latchkey::config::{Settings, Vars};
use latchkey::startup::Application;

/// The fixture signing key: tests copy it instead of generating RSA keys.
pub const FIXTURE_KEY: &str = include_str!("../fixtures/rsa-2048.pem");

/// A database of its own for one test: a SQLite file in the test's folder, or a fresh
/// PostgreSQL database on the server named by `TEST_DATABASE_URL`, dropped afterwards.
pub struct TestDb {
    pub url: String,
    admin_url: Option<String>,
    name: String,
}

impl TestDb {
    pub fn new(dir: &Path) -> TestDb {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            None => TestDb {
                url: format!("sqlite://{}", dir.join("data/latchkey.db").display()),
                admin_url: None,
                name: String::new(),
            },
            Some(admin_url) => {
                let name = format!("latchkey_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn =
                    diesel::PgConnection::establish(&admin_url).expect("TEST_DATABASE_URL must be reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap();
                let (base, query) = match admin_url.split_once('?') {
                    Some((b, q)) => (b.to_owned(), format!("?{q}")),
                    None => (admin_url.clone(), String::new()),
                };
                let server = base.rsplit_once('/').map(|(s, _)| s.to_owned()).unwrap();
                TestDb {
                    url: format!("{server}/{name}{query}"),
                    admin_url: Some(admin_url),
                    name,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.admin_url.is_some()
    }

    /// Makes the database disappear under a running server.
    pub fn destroy(&self, dir: &Path) {
        match &self.admin_url {
            Some(admin) => {
                let mut conn = diesel::PgConnection::establish(admin).unwrap();
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                    .execute(&mut conn)
                    .unwrap();
            }
            None => std::fs::remove_dir_all(dir.join("data")).unwrap(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(admin) = &self.admin_url
            && let Ok(mut conn) = diesel::PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut conn);
        }
    }
}

/// A running server and everything it owns.
pub struct TestApp {
    pub address: String,
    pub dir: tempfile::TempDir,
    pub db: TestDb,
    pub http: reqwest::Client,
}

impl TestApp {
    pub fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.address)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }
}

/// A fresh folder with the fixture key in `keys/`.
pub fn folder_with_fixture_key() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/fixture.pem"), FIXTURE_KEY).unwrap();
    dir
}

/// The variables a test server runs with; `extra` overrides.
pub fn vars(dir: &Path, db: &TestDb, extra: &[(&str, &str)]) -> Vars {
    let mut vars: Vars = HashMap::new();
    vars.insert("LATCHKEY_BIND".into(), "127.0.0.1:0".into());
    vars.insert("DATABASE_URL".into(), db.url.clone());
    vars.insert("LATCHKEY_DATA_DIR".into(), dir.join("data").display().to_string());
    vars.insert("LATCHKEY_KEYS_DIR".into(), dir.join("keys").display().to_string());
    vars.insert("LATCHKEY_ISSUER".into(), "http://issuer.test:8080".into());
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    vars
}

/// `TEST_LOG=1` shows the servers' logs (RUST_LOG filters them).
fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        latchkey::telemetry::init_tracing(latchkey::config::LogFormat::Text);
    }
}

/// Starts a server on a free port in a folder holding the fixture key.
pub async fn spawn_app() -> TestApp {
    let dir = folder_with_fixture_key();
    let db = TestDb::new(dir.path());
    spawn_app_in(dir, db, &[]).await
}

/// Starts a server in an existing folder and database.
pub async fn spawn_app_in(dir: tempfile::TempDir, db: TestDb, extra: &[(&str, &str)]) -> TestApp {
    init_logs();
    let mut settings = Settings::from_vars(&vars(dir.path(), &db, extra)).unwrap();
    settings.key_refresh = Duration::from_millis(100);
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        dir,
        db,
        http: reqwest::Client::new(),
    }
}

/// Starts a server whose issuer is its own address, as a relying party needs for discovery.
/// The listener is bound first so the port is known, and held, before the issuer is set.
pub async fn spawn_issuer_app(extra: &[(&str, &str)]) -> TestApp {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    spawn_issuer_app_on(listener, extra, |_| {}).await
}

/// Like [`spawn_issuer_app`], on a listener the test bound (so it knows the address before
/// the server starts), with a chance to change settings that have no variable. `extra` may
/// set `LATCHKEY_ISSUER` to another name for the same address.
pub async fn spawn_issuer_app_on(
    listener: std::net::TcpListener,
    extra: &[(&str, &str)],
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    init_logs();
    let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let dir = folder_with_fixture_key();
    let db = TestDb::new(dir.path());
    let mut extra_vars: Vec<(&str, &str)> = vec![("LATCHKEY_ISSUER", &address)];
    extra_vars.extend_from_slice(extra);
    let mut settings = Settings::from_vars(&vars(dir.path(), &db, &extra_vars)).unwrap();
    settings.key_refresh = Duration::from_millis(100);
    adjust(&mut settings);
    let address = settings.issuer.clone();
    let app = Application::build_on(settings, listener).await.unwrap();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        dir,
        db,
        http: reqwest::Client::new(),
    }
}

/// Polls `check` every 50 ms for up to 5 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Like [`spawn_app_in`], with a chance to change settings that have no variable (e.g. the
/// mail sender's timing).
pub async fn spawn_app_with(
    dir: tempfile::TempDir,
    db: TestDb,
    extra: &[(&str, &str)],
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    init_logs();
    let mut settings = Settings::from_vars(&vars(dir.path(), &db, extra)).unwrap();
    settings.key_refresh = Duration::from_millis(100);
    adjust(&mut settings);
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        dir,
        db,
        http: reqwest::Client::new(),
    }
}
