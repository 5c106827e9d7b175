//! Admin console tests: signing keys. The rules are those of `latchkey keys`: rotation
//! publishes at once, the active key cannot be retired, retiring deletes the private key.

use super::*;
use latchkey::db::schema::audit_events;

async fn published_kids(c: &Console) -> Vec<String> {
    let jwks = c.p.app.get_json("/.well-known/jwks.json").await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The kids of the page's rows in a given state.
fn kids_in(page: &Outcome, state: &str) -> Vec<String> {
    let re = regex_lite::Regex::new(&format!(r#"data-kid="([^"]+)" data-state="{state}""#)).unwrap();
    re.captures_iter(page.body()).map(|m| m[1].to_owned()).collect()
}

async fn audited(c: &Console, kind: &'static str) -> i64 {
    let admin = c.admin_id.clone();
    c.p.db
        .run(move |conn| {
            Ok(audit_events::table
                .filter(audit_events::kind.eq(kind))
                .filter(audit_events::actor.eq(admin))
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn rotating_publishes_at_once_and_the_active_key_cannot_be_retired() {
    let c = console().await;
    let page = c.open("/admin/keys").await;
    assert_eq!(status(&page), 200, "{}", page.body());
    let old = kids_in(&page, "active");
    assert_eq!(old.len(), 1);
    assert_eq!(published_kids(&c).await, old);

    let rotated = c.post(&page, "/admin/keys/rotate", &[]).await;
    assert_eq!(status(&rotated), 200, "{}", rotated.body());
    let new = kids_in(&rotated, "active");
    assert_eq!(new.len(), 1);
    assert_ne!(new, old);
    assert_eq!(kids_in(&rotated, "published"), old);
    // Served by the running server straight away (no wait for the 5 s refresh).
    assert_eq!(published_kids(&c).await, [new[0].clone(), old[0].clone()]);
    assert_eq!(audited(&c, "key.rotated").await, 1);

    // The active key: refused, with the reason; nothing changes.
    let refused = c.post(&rotated, "/admin/keys/retire", &[("kid", &new[0])]).await;
    assert_eq!(status(&refused), 409);
    assert!(refused.body().contains("active signing key"), "{}", refused.body());
    assert_eq!(published_kids(&c).await.len(), 2);

    // The superseded key: retired, gone from the JWKS, its private key deleted.
    let retired = c.post(&refused, "/admin/keys/retire", &[("kid", &old[0])]).await;
    assert_eq!(status(&retired), 200, "{}", retired.body());
    assert_eq!(kids_in(&retired, "retired"), old);
    assert_eq!(published_kids(&c).await, new);
    assert!(!c.p.app.keys_dir().join(format!("{}.pem", old[0])).exists());
    assert_eq!(audited(&c, "key.retired").await, 1);

    // Unknown kid: a message, not an error page.
    let unknown = c.post(&retired, "/admin/keys/retire", &[("kid", "no-such-kid")]).await;
    assert_eq!(status(&unknown), 409);
    assert!(unknown.body().contains("no signing key"));
}

#[tokio::test]
async fn key_changes_need_an_admin_a_csrf_token_and_a_recent_password() {
    let c = console().await;
    let before = published_kids(&c).await;

    let refused = c.post_without_csrf("/admin/keys/rotate", &[]).await;
    assert_eq!(status(&refused), 400);
    let user = signed_in(&c.p, &c.p.email).await;
    let own = user.follow(user.get("/account").await).await;
    let csrf = hidden(own.body(), "csrf_token");
    let res = user.post_form("/admin/keys/rotate", &[("csrf_token", &csrf)]).await;
    assert_eq!(status(&user.follow(res).await), 403);
    assert_eq!(published_kids(&c).await, before);

    // A sign-in older than 10 minutes: the password is asked for, and checked.
    c.age_sign_in(11).await;
    let page = c.open("/admin/keys").await;
    assert!(page.body().contains(r#"name="password""#));
    for password in [None, Some("wrong password")] {
        let fields: Vec<(&str, &str)> = password.iter().map(|p| ("password", *p)).collect();
        let asked = c.post(&page, "/admin/keys/rotate", &fields).await;
        assert_eq!(status(&asked), 400);
        assert!(asked.body().contains("Confirm your password"), "{}", asked.body());
        let retire = c.post(&page, "/admin/keys/retire", &[("kid", &before[0])]).await;
        assert!(retire.body().contains("Confirm your password"));
    }
    assert_eq!(published_kids(&c).await, before);
    assert_eq!(audited(&c, "key.rotated").await, 0);

    let done = c.post(&page, "/admin/keys/rotate", &[("password", PASSWORD)]).await;
    assert_eq!(status(&done), 200, "{}", done.body());
    assert_eq!(published_kids(&c).await.len(), 2);
}
