use crate::helpers::{eventually, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.db.destroy(app.dir.path());
    eventually("readyz to report 503", || async {
        app.get("/readyz").await.status() == 503
    })
    .await;
    // The process itself is still alive.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_report_the_pool() {
    let app = spawn_app().await;
    app.get("/.well-known/jwks.json").await;
    app.get("/.well-known/jwks.json").await;
    app.get("/no/such/path/123").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"latchkey_http_requests_total{method="GET",route="/.well-known/jwks.json",status="200"} 2"#),
        "{text}"
    );
    // Unknown paths share one label so a scanner cannot blow up the series count.
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(!text.contains("/no/such/path"));
    assert!(text.contains("latchkey_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"latchkey_db_pool_connections{state="idle"}"#));
    assert!(text.contains(r#"latchkey_db_pool_connections{state="in_use"}"#));
}
