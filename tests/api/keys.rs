use std::time::Duration;

use chrono::Utc;
use latchkey::config::Settings;
use latchkey::crypto::jwt::{self, Expect, JwtError};
use latchkey::crypto::keys::{self, KeyState, KeyStore};
use latchkey::startup::Application;
use serde::{Deserialize, Serialize};

use crate::helpers::{TestDb, eventually, folder_with_fixture_key, spawn_app, vars};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
}

fn claims() -> Claims {
    Claims {
        iss: "http://issuer.test".into(),
        sub: "user-1".into(),
        exp: Utc::now().timestamp() + 60,
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

fn verify(store: &KeyStore, token: &str) -> Result<Claims, JwtError> {
    let expect = Expect {
        typ: "at+jwt",
        issuer: "http://issuer.test",
        audience: None,
    };
    jwt::verify(&store.current(), token, &expect)
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn first_start_generates_a_private_key_and_restart_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let settings = Settings::from_vars(&vars(dir.path(), &db, &[])).unwrap();
    let first = Application::build(settings.clone()).await.unwrap();
    let kid_before = keys::list(&dir.path().join("keys")).unwrap()[0].kid.clone();
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.path().join("keys")), 0o700);
        assert_eq!(mode(&dir.path().join(format!("keys/{kid_before}.pem"))), 0o600);
    }
    if !db.is_postgres() {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let path = dir.path().join("data/latchkey.db");
        let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        let mode: Vec<Mode> = diesel::sql_query("PRAGMA journal_mode").load(&mut conn).unwrap();
        assert_eq!(mode[0].journal_mode, "wal");
    }
    drop(first);
    let second = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    let jwks: serde_json::Value = reqwest::get(format!("{address}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], kid_before.as_str());
}

#[tokio::test]
async fn a_running_server_publishes_a_rotated_key_without_restart() {
    let app = spawn_app().await;
    let old = app.get_json("/.well-known/jwks.json").await["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let new = keys::generate(&app.keys_dir(), Duration::ZERO).unwrap();
    eventually("the server to publish the new key", || async {
        let jwks = app.get_json("/.well-known/jwks.json").await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        kids == [new.kid.as_str(), old.as_str()]
    })
    .await;
}

#[test]
fn rotation_publishes_at_once_and_signs_after_the_prepublication_delay() {
    let dir = folder_with_fixture_key();
    let keys_dir = dir.path().join("keys");
    let store = KeyStore::open(&keys_dir).unwrap();
    let old_token = jwt::sign(&store.current(), "at+jwt", &claims()).unwrap();
    let old_kid = kid_of(&old_token);

    let new = keys::generate(&keys_dir, Duration::from_secs(3600)).unwrap();
    assert_eq!(new.state, KeyState::Published);
    assert!(store.refresh(Utc::now()).unwrap());
    let set = store.current();
    assert_eq!(set.published().len(), 2, "both keys are in the JWKS");
    assert_eq!(set.active().kid, old_kid, "the new key does not sign before its time");
    assert_eq!(kid_of(&jwt::sign(&set, "at+jwt", &claims()).unwrap()), old_kid);

    // An hour later the new key signs; tokens of the old one still verify.
    store.refresh(Utc::now() + chrono::Duration::hours(2)).unwrap();
    let token = jwt::sign(&store.current(), "at+jwt", &claims()).unwrap();
    assert_eq!(kid_of(&token), new.kid);
    assert_eq!(verify(&store, &token).unwrap().sub, "user-1");
    assert_eq!(verify(&store, &old_token).unwrap().sub, "user-1");
}

#[test]
fn retire_removes_a_key_from_the_jwks_and_refuses_the_active_one() {
    let dir = folder_with_fixture_key();
    let keys_dir = dir.path().join("keys");
    let store = KeyStore::open(&keys_dir).unwrap();
    let old_token = jwt::sign(&store.current(), "at+jwt", &claims()).unwrap();
    let old_kid = kid_of(&old_token);
    let new = keys::generate(&keys_dir, Duration::ZERO).unwrap();

    let err = keys::retire(&keys_dir, &new.kid).unwrap_err();
    assert!(err.to_string().contains("active"), "{err}");

    let retired = keys::retire(&keys_dir, &old_kid).unwrap();
    assert_eq!(retired.state, KeyState::Retired);
    let listed = keys::list(&keys_dir).unwrap();
    assert_eq!(
        listed.iter().find(|k| k.kid == old_kid).unwrap().state,
        KeyState::Retired
    );
    assert_eq!(
        listed.iter().find(|k| k.kid == new.kid).unwrap().state,
        KeyState::Active
    );
    assert!(
        !keys_dir.join("fixture.pem").exists(),
        "a retired private key is deleted"
    );

    store.refresh(Utc::now()).unwrap();
    let set = store.current();
    assert_eq!(set.published().len(), 1);
    assert_eq!(set.active().kid, new.kid);
    assert!(matches!(verify(&store, &old_token), Err(JwtError::UnknownKey)));
}

#[tokio::test]
async fn a_corrupt_key_file_stops_the_start_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    let broken = dir.path().join("keys/broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let db = TestDb::new(dir.path());
    let settings = Settings::from_vars(&vars(dir.path(), &db, &[])).unwrap();
    let err = Application::build(settings).await.err().expect("start must fail");
    let message = format!("{err:#}");
    assert!(message.contains("broken.pem"), "{message}");
    assert!(std::fs::read_to_string(&broken).unwrap().contains("not a key"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("keys")).unwrap().count(),
        1,
        "no key generated beside it"
    );
}

#[test]
fn tokens_of_another_type_or_issuer_are_refused() {
    let dir = folder_with_fixture_key();
    let store = KeyStore::open(&dir.path().join("keys")).unwrap();
    let token = jwt::sign(&store.current(), "refresh+jwt", &claims()).unwrap();
    assert!(matches!(verify(&store, &token), Err(JwtError::WrongType)));
    let other = Claims {
        iss: "https://evil.example".into(),
        ..claims()
    };
    let token = jwt::sign(&store.current(), "at+jwt", &other).unwrap();
    assert!(matches!(verify(&store, &token), Err(JwtError::Invalid(_))));
    let expired = Claims {
        exp: Utc::now().timestamp() - 3600,
        ..claims()
    };
    let token = jwt::sign(&store.current(), "at+jwt", &expired).unwrap();
    assert!(matches!(verify(&store, &token), Err(JwtError::Invalid(_))));
}
