//! Admin changes as tokens see them: a granted role is in the next token; disabling ends
//! refresh tokens and sign-in at once.

use super::*;
use crate::oidc::{Rp, attempt, sign_in};

/// Tokens for the provider's user and client, with the `roles` scope (and a refresh token).
async fn tokens(c: &Console) -> serde_json::Value {
    let rp = Rp::discover(&c.p).await;
    let browser = Browser::new(&c.p.app);
    let a = attempt(&rp, &["openid", "roles", "offline_access"], &[]);
    let code = sign_in(&c.p, &browser, &a).await;
    token_call(
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", crate::oidc::REDIRECT),
            ("code_verifier", a.verifier.secret()),
        ],
    )
    .await
}

async fn token_call(c: &Console, form: &[(&str, &str)]) -> serde_json::Value {
    let client = &c.p.client;
    let res =
        c.p.app
            .http
            .post(format!("{}/token", c.p.app.address))
            .basic_auth(&client.client_id, client.client_secret.as_deref())
            .form(form)
            .send()
            .await
            .unwrap();
    let status = res.status().as_u16();
    let mut body: serde_json::Value = res.json().await.unwrap();
    body["status"] = status.into();
    body
}

fn roles_claim(tokens: &serde_json::Value) -> serde_json::Value {
    use base64::Engine;
    let payload = tokens["access_token"].as_str().unwrap().split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["roles"].clone()
}

#[tokio::test]
async fn an_assigned_role_is_in_the_next_token() {
    let c = console().await;
    let first = tokens(&c).await;
    assert_eq!(roles_claim(&first), serde_json::json!([]));

    let roles_page = c.open("/admin/roles").await;
    c.post(
        &roles_page,
        "/admin/roles",
        &[("name", "editor"), ("description", "Edits")],
    )
    .await;
    let path = format!("/admin/users/{}", c.p.user_id);
    let page = c.open(&path).await;
    assert!(page.body().contains(r#"value="editor""#));
    let saved = c.post(&page, &format!("{path}/roles"), &[("role", "editor")]).await;
    assert!(saved.body().contains("Roles saved."), "{}", saved.body());
    let refused = c
        .post(&saved, &format!("{path}/roles"), &[("role", "nonexistent")])
        .await;
    assert!(refused.body().contains("There is no role named"));

    let refreshed = token_call(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(refreshed["status"], 200, "{refreshed}");
    assert_eq!(roles_claim(&refreshed), serde_json::json!(["editor"]));

    // The administrator cannot take the admin role from themselves.
    let own = c.open(&format!("/admin/users/{}", c.admin_id)).await;
    let kept = c.post(&own, &format!("/admin/users/{}/roles", c.admin_id), &[]).await;
    assert!(kept.body().contains("cannot take the admin role from yourself"));
}

#[tokio::test]
async fn disabling_ends_refresh_tokens_and_sign_in_and_needs_a_recent_sign_in() {
    let c = console().await;
    let live = tokens(&c).await;
    let user_browser = signed_in(&c.p, &c.p.email).await;
    let path = format!("/admin/users/{}", c.p.user_id);

    // An old sign-in must confirm the password; nothing happens until it does.
    c.age_sign_in(11).await;
    let page = c.open(&path).await;
    assert!(
        page.body().contains(r#"name="password""#),
        "the destructive forms ask for it"
    );
    let refused = c.post(&page, &format!("{path}/disable"), &[]).await;
    assert!(refused.body().contains("Confirm your password"), "{}", refused.body());
    let wrong = c
        .post(&refused, &format!("{path}/disable"), &[("password", "not it")])
        .await;
    assert!(wrong.body().contains("Confirm your password"));
    assert!(!user_row(&c, &c.p.user_id).await.unwrap().disabled);

    let done = c
        .post(&wrong, &format!("{path}/disable"), &[("password", PASSWORD)])
        .await;
    assert!(done.body().contains("User disabled"), "{}", done.body());
    let dead = token_call(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", live["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(dead["status"], 400, "{dead}");
    let out = user_browser.follow(user_browser.get("/account").await).await;
    assert!(out.url().contains("/login"), "the user's session ended");
    let again = Browser::new(&c.p.app);
    let login = again.follow(again.get("/login").await).await;
    assert!(
        !again
            .login(&login, &c.p.email, PASSWORD)
            .await
            .url()
            .ends_with("/account")
    );

    // Enabling is not destructive: no password needed. Sign-in works again.
    let enabled = c.post(&done, &format!("{path}/enable"), &[]).await;
    assert!(enabled.body().contains("User enabled."));
    signed_in(&c.p, &c.p.email).await;
}
