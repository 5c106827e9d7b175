//! State that must be shared between replicas: codes, refresh rotation, revocation,
//! disabled users and brute-force counters.

use super::*;

#[tokio::test]
async fn sign_in_on_a_exchange_and_refresh_on_b_refresh_again_on_a() {
    let c = cluster().await;
    let code = c.code_at(&c.a, &browser()).await;
    let tokens = c.exchange(&c.b, &code).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, on_b) = c.refresh(&c.b, first).await;
    assert_eq!(status, 200, "{on_b}");
    let second = on_b["refresh_token"].as_str().unwrap();
    let (status, on_a) = c.refresh(&c.a, second).await;
    assert_eq!(status, 200, "{on_a}");
    let newest = on_a["refresh_token"].as_str().unwrap();

    // Rotation state is shared: the spent token is a replay on the other node too.
    let (status, replay) = c.refresh(&c.a, first).await;
    assert_eq!((status, replay["error"].as_str()), (400, Some("invalid_grant")));
    // So is the code: used once on B, refused on A (and the tokens it gave are revoked).
    let (status, body) = c
        .token(
            &c.a,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(
        c.refresh(&c.b, newest).await.0,
        400,
        "the replay revoked the family everywhere"
    );
}

#[tokio::test]
async fn revoking_on_b_is_refused_on_a_at_once() {
    let c = cluster().await;
    let code = c.code_at(&c.a, &browser()).await;
    let tokens = c.exchange(&c.a, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let userinfo = |node: &str| http.get(format!("{node}/userinfo")).bearer_auth(access).send();
    assert_eq!(userinfo(&c.a.base).await.unwrap().status(), 200);

    for token in [access, refresh] {
        let res = http
            .post(format!("{}/revoke", c.b.base))
            .basic_auth(&c.client_id, Some(&c.client_secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(userinfo(&c.a.base).await.unwrap().status(), 401);
    let (status, body) = c.refresh(&c.a, refresh).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn disabling_a_user_through_one_node_stops_their_refresh_on_the_other() {
    let c = cluster().await;
    let code = c.code_at(&c.a, &browser()).await;
    let tokens = c.exchange(&c.a, &code).await;
    // The CLI is one more process on the same database, like an administrator on node A.
    c.cli.json(&["user", "disable", &c.email, "--json"]);
    let (status, body) = c.refresh(&c.b, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

#[tokio::test]
async fn failed_sign_ins_on_a_count_on_b() {
    let c = cluster().await;
    let attempt = |node: &Node, browser: reqwest::Client| {
        let base = node.base.clone();
        let email = c.email.clone();
        async move {
            let page = browser.get(format!("{base}/login")).send().await.unwrap();
            let body = page.text().await.unwrap();
            let res = browser
                .post(format!("{base}/login"))
                .form(&[
                    ("csrf_token", hidden(&body, "csrf_token").as_str()),
                    ("request", ""),
                    ("email", email.as_str()),
                    ("password", "not the password"),
                ])
                .send()
                .await
                .unwrap();
            res.text().await.unwrap()
        }
    };
    // Five failures on A: the address is now throttled for every node.
    for _ in 0..5 {
        let body = attempt(&c.a, browser()).await;
        assert!(body.contains("Invalid email or password"));
        assert!(!body.contains("Too many attempts"), "throttled too early");
    }
    let on_b = attempt(&c.b, browser()).await;
    assert!(on_b.contains("Too many attempts"), "B did not see A's failures: {on_b}");
}
