//! Admin console tests: clients. Registered, edited, rotated and deleted through the pages;
//! `settings` then uses them through the protocol, so the settings are seen to take effect.

mod settings;

use diesel::prelude::*;
use latchkey::db::schema::audit_events;
use serde_json::Value;

use super::*;
use crate::oidc::REDIRECT;

/// The text of the element `<code id="{id}">` on a page.
fn code_text(body: &str, id: &str) -> Option<String> {
    let re = regex_lite::Regex::new(&format!(r#"<code id="{id}">([^<]*)</code>"#)).unwrap();
    re.captures(body).map(|c| c[1].to_owned())
}

/// The form of a new client, as a browser posts it (checkboxes repeat their name).
fn new_client_form<'a>(name: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("name", name),
        ("client_type", "confidential"),
        ("redirect_uris", REDIRECT),
        ("post_logout_redirect_uris", ""),
        ("resources", ""),
        ("grant", "authorization_code"),
        ("grant", "refresh_token"),
        ("access_token_ttl", ""),
        ("refresh_token_ttl", ""),
    ];
    form.extend_from_slice(extra);
    form
}

/// Registers a client through `/admin/clients/new`; returns its page, id and secret.
async fn register(c: &Console, extra: &[(&str, &str)]) -> (Outcome, String, String) {
    let form = c.open("/admin/clients/new").await;
    assert_eq!(status(&form), 200, "{}", form.body());
    let page = c
        .post(&form, "/admin/clients", &new_client_form("Console app", extra))
        .await;
    assert_eq!(status(&page), 200, "{}", page.body());
    let id = code_text(page.body(), "client-id").expect("the client id is shown");
    let secret = code_text(page.body(), "client-secret").expect("the new secret is shown once");
    (page, id, secret)
}

/// `POST /token` with HTTP Basic client authentication; status and JSON body.
async fn token(p: &Provider, id: &str, secret: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = p
        .app
        .http
        .post(format!("{}/token", p.app.address))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Whether the token endpoint accepts this client secret: a bogus code then fails as
/// `invalid_grant` (authenticated), a wrong secret as `invalid_client`.
async fn secret_works(p: &Provider, id: &str, secret: &str) -> bool {
    let (status, body) = token(
        p,
        id,
        secret,
        &[("grant_type", "authorization_code"), ("code", "bogus")],
    )
    .await;
    match body["error"].as_str() {
        Some("invalid_grant") => true,
        Some("invalid_client") => false,
        _ => panic!("unexpected answer {status}: {body}"),
    }
}

/// The audit events of this kind about `subject`: their actors.
async fn audit_actors(p: &Provider, kind: &'static str, subject: &str) -> Vec<Option<String>> {
    let subject = subject.to_owned();
    p.db.run(move |conn| {
        Ok(audit_events::table
            .filter(audit_events::kind.eq(kind))
            .filter(audit_events::subject.eq(subject))
            .select(audit_events::actor)
            .load::<Option<String>>(conn)?)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn only_administrators_see_or_change_clients() {
    let c = console().await;
    let id = c.p.client.client_id.clone();
    let secret = c.p.client.client_secret.clone().unwrap();
    let user = signed_in(&c.p, &c.p.email).await;
    for path in [
        "/admin/clients".to_owned(),
        "/admin/clients/new".to_owned(),
        format!("/admin/clients/{id}"),
        format!("/admin/clients/{id}/edit"),
    ] {
        let page = user.follow(user.get(&path).await).await;
        assert_eq!(status(&page), 403, "GET {path}");
    }
    // The user's own CSRF token (from the account page) does not make them an administrator.
    let account = user.follow(user.get("/account").await).await;
    let csrf = hidden(account.body(), "csrf_token");
    for path in [
        "/admin/clients".to_owned(),
        format!("/admin/clients/{id}"),
        format!("/admin/clients/{id}/rotate-secret"),
        format!("/admin/clients/{id}/delete"),
    ] {
        let form = [
            ("csrf_token", csrf.as_str()),
            ("name", "Taken over"),
            ("redirect_uris", REDIRECT),
        ];
        let page = user.follow(user.post_form(&path, &form).await).await;
        assert_eq!(status(&page), 403, "POST {path}");
    }
    let client = latchkey::service::clients::get(&c.p.db, &id).await.unwrap();
    assert_eq!(client.name, "Test app", "nothing changed");
    assert!(secret_works(&c.p, &id, &secret).await, "the secret was not rotated");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let c = console().await;
    let id = c.p.client.client_id.clone();
    let secret = c.p.client.client_secret.clone().unwrap();
    let refused = c
        .post_without_csrf("/admin/clients", &new_client_form("Forged", &[]))
        .await;
    assert_eq!(status(&refused), 400);
    let edit = [("name", "Forged"), ("redirect_uris", REDIRECT)];
    assert_eq!(
        status(&c.post_without_csrf(&format!("/admin/clients/{id}"), &edit).await),
        400
    );
    for action in ["rotate-secret", "delete"] {
        let page = c
            .post_without_csrf(&format!("/admin/clients/{id}/{action}"), &[("password", PASSWORD)])
            .await;
        assert_eq!(status(&page), 400, "{action}");
    }
    let list = latchkey::service::clients::list(&c.p.db).await.unwrap();
    assert_eq!(list.len(), 1, "nothing registered");
    assert_eq!(list[0].name, "Test app", "nothing edited or deleted");
    assert!(secret_works(&c.p, &id, &secret).await, "the secret was not rotated");
}

#[tokio::test]
async fn mistakes_show_the_form_again_with_what_was_typed() {
    let c = console().await;
    let form = c.open("/admin/clients/new").await;
    for (field, value, message) in [
        ("redirect_uris", "not a uri", "redirect uri"),
        ("access_token_ttl", "soon", "whole number of seconds"),
        ("refresh_token_ttl", "5", "between 60"),
        ("scope", "admin", "unknown scope"),
        ("name", " ", "must not be empty"),
    ] {
        let mut fields = new_client_form("Typed name", &[]);
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let page = c.post(&form, "/admin/clients", &fields).await;
        assert_eq!(status(&page), 400, "{field}={value}: {}", page.body());
        let error = regex_lite::Regex::new(r#"<p class="error" role="alert">([^<]*)</p>"#).unwrap();
        let shown = error.captures(page.body()).expect("an error is shown")[1].to_lowercase();
        assert!(shown.contains(message), "{field}: {shown}");
        if field != "name" {
            assert!(
                page.body().contains("Typed name"),
                "{field}: the form keeps what was typed"
            );
        }
    }
    assert_eq!(
        latchkey::service::clients::list(&c.p.db).await.unwrap().len(),
        1,
        "nothing registered"
    );
    let missing = c.open("/admin/clients/no-such-client").await;
    assert_eq!(status(&missing), 404);
}

#[tokio::test]
async fn editing_a_client_changes_it_and_is_audited() {
    let c = console().await;
    let id = c.p.client.client_id.clone();
    let form = c.open(&format!("/admin/clients/{id}/edit")).await;
    assert_eq!(status(&form), 200, "{}", form.body());
    assert!(form.body().contains("Test app"), "the form shows the current values");
    let fields = [
        ("name", "Renamed app"),
        ("redirect_uris", "http://127.0.0.1:9/callback\nhttp://127.0.0.1:9/other"),
        ("post_logout_redirect_uris", "http://127.0.0.1:9/bye"),
        ("resources", "https://api.example.com"),
        ("grant", "authorization_code"),
        ("scope", "openid"),
        ("scope", "email"),
        ("access_token_ttl", "300"),
        ("refresh_token_ttl", ""),
    ];
    let page = c.post(&form, &format!("/admin/clients/{id}"), &fields).await;
    assert_eq!(status(&page), 200, "{}", page.body());
    assert!(page.body().contains("Changes saved."));
    let client = latchkey::service::clients::get(&c.p.db, &id).await.unwrap();
    assert_eq!(client.name, "Renamed app");
    assert_eq!(client.redirect_uris.len(), 2);
    assert_eq!(client.post_logout_redirect_uris, vec!["http://127.0.0.1:9/bye"]);
    assert_eq!(client.resources, vec!["https://api.example.com"]);
    assert_eq!(client.grant_types, vec!["authorization_code"]);
    assert_eq!(client.allowed_scopes, vec!["email", "openid"]);
    assert_eq!((client.access_token_ttl, client.refresh_token_ttl), (Some(300), None));
    assert!(!client.public, "the type is kept");
    assert_eq!(
        audit_actors(&c.p, "client.updated", &id).await,
        vec![Some(c.admin_id.clone())]
    );

    // A mistake comes back as the form, nothing changed.
    let bad = c
        .post(
            &form,
            &format!("/admin/clients/{id}"),
            &[("name", "X"), ("redirect_uris", "ftp://x")],
        )
        .await;
    assert_eq!(status(&bad), 400, "{}", bad.body());
    let client = latchkey::service::clients::get(&c.p.db, &id).await.unwrap();
    assert_eq!(client.name, "Renamed app");
}

#[tokio::test]
async fn a_rotated_secret_works_and_the_old_one_is_refused() {
    let c = console().await;
    let id = c.p.client.client_id.clone();
    let old = c.p.client.client_secret.clone().unwrap();
    let page = c.open(&format!("/admin/clients/{id}")).await;
    assert!(
        !page.body().contains(r#"name="password""#),
        "a fresh sign-in needs no password"
    );
    let rotated = c.post(&page, &format!("/admin/clients/{id}/rotate-secret"), &[]).await;
    assert_eq!(status(&rotated), 200, "{}", rotated.body());
    let new = code_text(rotated.body(), "client-secret").expect("the new secret is shown");
    assert!(
        rotated.body().contains(r##"data-copy="#client-secret""##),
        "with a copy button"
    );
    assert_ne!(new, old);
    assert!(secret_works(&c.p, &id, &new).await, "the new secret works");
    assert!(!secret_works(&c.p, &id, &old).await, "the old secret is refused");
    assert_eq!(
        audit_actors(&c.p, "client.secret_rotated", &id).await,
        vec![Some(c.admin_id.clone())]
    );
}

#[tokio::test]
async fn delete_and_rotate_ask_for_the_password_after_ten_minutes() {
    let c = console().await;
    let id = c.p.client.client_id.clone();
    let secret = c.p.client.client_secret.clone().unwrap();
    c.age_sign_in(11).await;
    let page = c.open(&format!("/admin/clients/{id}")).await;
    assert!(page.body().contains(r#"name="password""#), "the password is asked for");
    for action in ["rotate-secret", "delete"] {
        for password in [None, Some("wrong password")] {
            let fields: Vec<(&str, &str)> = password.map(|p| ("password", p)).into_iter().collect();
            let refused = c.post(&page, &format!("/admin/clients/{id}/{action}"), &fields).await;
            assert_eq!(status(&refused), 400, "{action} {password:?}");
            assert!(refused.body().contains("Confirm your password"), "{}", refused.body());
        }
    }
    assert!(secret_works(&c.p, &id, &secret).await, "not rotated");

    let deleted = c
        .post(&page, &format!("/admin/clients/{id}/delete"), &[("password", PASSWORD)])
        .await;
    assert_eq!(status(&deleted), 200, "{}", deleted.body());
    assert!(deleted.body().contains("The client was deleted."));
    assert_eq!(status(&c.open(&format!("/admin/clients/{id}")).await), 404);
    assert!(
        !secret_works(&c.p, &id, &secret).await,
        "a deleted client cannot authenticate"
    );
    assert_eq!(
        audit_actors(&c.p, "client.deleted", &id).await,
        vec![Some(c.admin_id.clone())]
    );
}

#[tokio::test]
async fn a_public_client_has_no_secret_to_rotate() {
    let c = console().await;
    let form = c.open("/admin/clients/new").await;
    let mut fields = new_client_form("Single-page app", &[]);
    fields.retain(|(k, _)| *k != "client_type");
    fields.push(("client_type", "public"));
    let page = c.post(&form, "/admin/clients", &fields).await;
    assert_eq!(status(&page), 200, "{}", page.body());
    let id = code_text(page.body(), "client-id").expect("the client id is shown");
    assert!(code_text(page.body(), "client-secret").is_none(), "no secret");
    assert!(page.body().contains(r#"token_endpoint_auth_method: "none""#));
    assert!(!page.body().contains("/rotate-secret"), "nothing to rotate");
    let refused = c.post(&page, &format!("/admin/clients/{id}/rotate-secret"), &[]).await;
    assert_eq!(status(&refused), 400);
    assert!(refused.body().contains("no secret"), "{}", refused.body());
    assert!(latchkey::service::clients::get(&c.p.db, &id).await.unwrap().public);
}
