//! The `latchkey` binary as scripts use it: a real process, its stdout, stderr and exit code.

mod clients;
mod process;
mod users;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::helpers::{TestDb, folder_with_fixture_key, vars};

pub struct Cli {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
}

impl Cli {
    pub fn new() -> Cli {
        let dir = folder_with_fixture_key();
        let db = TestDb::new(dir.path());
        Cli { dir, db }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None, &[])
    }

    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        cmd.args(args)
            .env_clear()
            .envs(vars(self.dir.path(), &self.db, env))
            .env("RUST_LOG", "warn")
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// Runs a command that must succeed and print one JSON object.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {}", stdout(&out)))
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one line a failing command prints.
pub fn error_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim_end().lines().count(), 1, "expected one line, got: {err}");
    err.trim_end().to_owned()
}

pub async fn stored_password_hash(db_url: &str, email: &str) -> Option<String> {
    let db = latchkey::db::Db::connect(db_url).unwrap();
    let email = email.to_owned();
    db.run(move |conn| Ok(latchkey::db::repo::users::find_by_email(conn, &email)?))
        .await
        .unwrap()
        .unwrap()
        .password_hash
}
