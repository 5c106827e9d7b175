//! Scale-out without Docker: two `latchkey serve` processes on different ports share one
//! database (PostgreSQL when `TEST_DATABASE_URL` is set, as in CI's second pass; otherwise
//! one SQLite file) and one keys folder — the topology of `docker-compose.yml`, minus the
//! load balancer, which the tests play by choosing the node for each request.

mod flows;
mod nodes;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use latchkey::db::Db;
use latchkey::domain::Email;
use latchkey::service::{clients, users};
use secrecy::SecretString;
use serde_json::Value;

use crate::cli::Cli;
use crate::helpers::vars;
use crate::oidc::hidden;

pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// Both nodes share the cookie key, as replicas behind one load balancer must.
const SECRET: &str = "scale-out-test-secret-shared-by-both-replicas-0123456789";

/// One `latchkey serve` process; killed (SIGKILL) when dropped.
pub struct Node {
    pub base: String,
    child: Child,
}

impl Node {
    /// Starts a node on a free port; `issuer` is the public URL both nodes share.
    pub fn spawn(cli: &Cli, issuer: &str) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bind = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .arg("serve")
            .env_clear()
            .envs(vars(
                cli.dir.path(),
                &cli.db,
                &[
                    ("LATCHKEY_BIND", &bind),
                    ("LATCHKEY_ISSUER", issuer),
                    ("LATCHKEY_SECRET", SECRET),
                ],
            ))
            // Expected refusals log warnings; only errors are worth a test's output.
            .env("RUST_LOG", "error")
            .current_dir(cli.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Node {
            base: format!("http://{bind}"),
            child,
        }
    }

    /// Waits up to 20 s for `/readyz` to answer 200. Returns false if the process exited
    /// first (its stderr, inherited, says why).
    pub async fn ready(&mut self) -> bool {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!("{} exited before it was ready: {status}", self.base);
                return false;
            }
            if let Ok(res) = http.get(format!("{}/readyz", self.base)).send().await
                && res.status() == 200
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not become ready within 20 s", self.base);
    }

    /// Spawns nodes until one is ready: the free port picked for it can be taken by another
    /// test between the pick and the bind, and then the process exits at once.
    pub async fn start(cli: &Cli, issuer: &str) -> Node {
        for _ in 0..3 {
            let mut node = Node::spawn(cli, issuer);
            if node.ready().await {
                return node;
            }
        }
        panic!("no node could start");
    }

    /// `kill -9`: no graceful shutdown, whatever was in flight is cut off.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Two nodes, a user and a first-party confidential client.
pub struct Cluster {
    pub cli: Cli,
    pub a: Node,
    pub b: Node,
    pub email: String,
    pub client_id: String,
    pub client_secret: String,
}

pub async fn cluster() -> Cluster {
    let cli = Cli::new();
    // Migrated once here so the user and client can be created before the nodes start.
    cli.json(&["migrate", "--json"]);
    let db = Db::connect(&cli.db.url).unwrap();
    let email = format!("scale-{}@example.com", uuid::Uuid::new_v4().simple());
    users::create(
        &db,
        "test",
        users::NewUser {
            email: Email::parse(&email).unwrap(),
            name: "Scale Out".into(),
            password: Some(SecretString::from(PASSWORD)),
            admin: false,
            verified: true,
        },
    )
    .await
    .unwrap();
    let client = clients::create(
        &db,
        "test",
        clients::NewClient {
            name: "Scale-out app".into(),
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![],
            public: false,
            skip_consent: true,
            grant_types: vec![],
            resources: vec![],
        },
        true,
    )
    .await
    .unwrap();
    let issuer = "http://latchkey.test";
    let (a, b) = (Node::start(&cli, issuer).await, Node::start(&cli, issuer).await);
    Cluster {
        cli,
        a,
        b,
        email,
        client_id: client.client_id,
        client_secret: client.client_secret.unwrap(),
    }
}

/// A browser: keeps cookies (per host, so across both nodes), follows no redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect from {} ({})", res.url(), res.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

impl Cluster {
    /// Signs in at `node` through the hosted login and returns the authorization code.
    pub async fn code_at(&self, node: &Node, browser: &reqwest::Client) -> String {
        let redirect = url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>();
        let start = format!(
            "{}/authorize?response_type=code&client_id={}&redirect_uri={redirect}&scope=openid&state=s",
            node.base, self.client_id
        );
        let res = browser.get(&start).send().await.unwrap();
        let mut next = location(&res);
        if next.starts_with("/login") {
            let page = browser.get(format!("{}{next}", node.base)).send().await.unwrap();
            let body = page.text().await.unwrap();
            let res = browser
                .post(format!("{}/login", node.base))
                .form(&[
                    ("csrf_token", hidden(&body, "csrf_token").as_str()),
                    ("request", hidden(&body, "request").as_str()),
                    ("email", self.email.as_str()),
                    ("password", PASSWORD),
                ])
                .send()
                .await
                .unwrap();
            next = location(&res);
            let res = browser.get(format!("{}{next}", node.base)).send().await.unwrap();
            next = location(&res);
        }
        assert!(next.starts_with(REDIRECT), "expected the client, got {next}");
        url::Url::parse(&next)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    }

    /// `POST /token` at `node`; the status and JSON body.
    pub async fn token(&self, node: &Node, form: &[(&str, &str)]) -> (u16, Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/token", node.base))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(form)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    pub async fn exchange(&self, node: &Node, code: &str) -> Value {
        let (status, body) = self
            .token(
                node,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn refresh(&self, node: &Node, refresh_token: &str) -> (u16, Value) {
        self.token(
            node,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
        )
        .await
    }
}
