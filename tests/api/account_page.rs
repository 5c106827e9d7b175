//! `/account`: sessions, password change and deletion, as the signed-in user sees them.

use crate::oidc::{Browser, ClientOptions, Outcome, PASSWORD, Provider, REDIRECT, hidden, provider};

const NEW_PASSWORD: &str = "copper meadow signal harbor";

/// A browser signed in directly at /login; it lands on the account page.
async fn signed_in(p: &Provider) -> (Browser, Outcome) {
    let browser = Browser::new(&p.app);
    let login = browser.follow(browser.get("/login").await).await;
    let account = browser.login(&login, &p.email, PASSWORD).await;
    assert!(account.url().ends_with("/account"), "{}", account.url());
    (browser, account)
}

async fn post(browser: &Browser, page: &Outcome, path: &str, fields: &[(&str, &str)]) -> Outcome {
    let csrf = hidden(page.body(), "csrf_token");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = browser.post_form(path, &form).await;
    browser.follow(res).await
}

/// A refresh token bound to this browser's session (first-party client, so it is issued).
async fn refresh_token(p: &Provider, browser: &Browser, client: &latchkey::service::clients::ClientView) -> String {
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s",
        p.app.address,
        client.client_id,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let code = browser.start(&url::Url::parse(&url).unwrap()).await.client_params()["code"].clone();
    let tokens: serde_json::Value = p
        .app
        .http
        .post(format!("{}/token", p.app.address))
        .basic_auth(&client.client_id, client.client_secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

async fn refresh_status(p: &Provider, client: &latchkey::service::clients::ClientView, token: &str) -> u16 {
    p.app
        .http
        .post(format!("{}/token", p.app.address))
        .basic_auth(&client.client_id, client.client_secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_account_page_lists_sessions_and_revokes_one_with_its_refresh_tokens() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (laptop, _) = signed_in(&p).await;
    let (phone, _) = signed_in(&p).await;
    let phone_refresh = refresh_token(&p, &phone, &p.client).await;

    let page = laptop.follow(laptop.get("/account").await).await;
    assert!(page.body().contains(&p.email));
    assert_eq!(page.body().matches("(this browser)").count(), 1);
    let re = regex_lite::Regex::new(r#"name="session" value="([^"]+)""#).unwrap();
    let others: Vec<String> = re
        .captures_iter(page.body())
        .map(|c| c[1].to_owned())
        .filter(|v| v != "others")
        .collect();
    assert_eq!(others.len(), 1, "two sessions: this one, and one other to sign out");

    let after = post(&laptop, &page, "/account/sessions/revoke", &[("session", &others[0])]).await;
    assert!(after.body().contains("Signed out."));
    assert_eq!(re.captures_iter(after.body()).filter(|c| &c[1] != "others").count(), 0);
    // The phone is signed out and its refresh token is dead.
    let phone_page = phone.follow(phone.get("/account").await).await;
    assert!(phone_page.url().contains("/login"), "{}", phone_page.url());
    assert_eq!(refresh_status(&p, &p.client, &phone_refresh).await, 400);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_everywhere_else() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (laptop, page) = signed_in(&p).await;
    let (phone, _) = signed_in(&p).await;
    let laptop_refresh = refresh_token(&p, &laptop, &p.client).await;

    let wrong = post(
        &laptop,
        &page,
        "/account/password",
        &[
            ("current_password", "not it"),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert!(wrong.body().contains("current password is not right"));
    let weak = post(
        &laptop,
        &wrong,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "password1"),
            ("new_password_confirm", "password1"),
        ],
    )
    .await;
    assert!(weak.body().contains("too weak"));
    let done = post(
        &laptop,
        &weak,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert!(done.body().contains("Your password is changed"), "{}", done.body());
    // This browser stays signed in; the other is out; refresh tokens die; the old password too.
    assert!(
        laptop
            .follow(laptop.get("/account").await)
            .await
            .url()
            .ends_with("/account")
    );
    assert!(phone.follow(phone.get("/account").await).await.url().contains("/login"));
    assert_eq!(refresh_status(&p, &p.client, &laptop_refresh).await, 400);
    let fresh = Browser::new(&p.app);
    let login = fresh.follow(fresh.get("/login").await).await;
    let old = fresh.login(&login, &p.email, PASSWORD).await;
    assert!(old.body().contains("Invalid email or password"));
    assert!(
        fresh
            .login(&old, &p.email, NEW_PASSWORD)
            .await
            .url()
            .ends_with("/account")
    );
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_removes_it() {
    let p = provider(ClientOptions::default()).await;
    let (browser, page) = signed_in(&p).await;
    let refused = post(&browser, &page, "/account/delete", &[("password", "not it")]).await;
    assert!(refused.body().contains("current password is not right"));
    let gone = post(&browser, &refused, "/account/delete", &[("password", PASSWORD)]).await;
    assert!(gone.body().contains("Account deleted"));
    let id = p.user_id.clone();
    let row =
        p.db.run(move |conn| Ok(latchkey::db::repo::users::find_by_id(conn, &id)?))
            .await
            .unwrap();
    assert!(row.is_none());
    let again = Browser::new(&p.app);
    let login = again.follow(again.get("/login").await).await;
    assert!(
        again
            .login(&login, &p.email, PASSWORD)
            .await
            .body()
            .contains("Invalid email or password")
    );
}

#[tokio::test]
async fn the_account_page_needs_a_session_and_a_csrf_token() {
    let p = provider(ClientOptions::default()).await;
    let stranger = Browser::new(&p.app);
    assert!(
        stranger
            .follow(stranger.get("/account").await)
            .await
            .url()
            .contains("/login")
    );
    let (browser, _) = signed_in(&p).await;
    let res = browser
        .post_form("/account/delete", &[("csrf_token", "forged"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        browser
            .follow(browser.get("/account").await)
            .await
            .url()
            .ends_with("/account"),
        "still there"
    );
}

#[tokio::test]
async fn changing_the_email_takes_effect_only_from_the_link_and_tells_the_old_address() {
    let smtp = crate::smtp::SmtpServer::start().await;
    let app = crate::helpers::spawn_issuer_app(&[("SMTP_URL", &smtp.url())]).await;
    let db = latchkey::db::Db::connect(&app.db.url).unwrap();
    let email = "before@example.com";
    latchkey::service::users::create(
        &db,
        "test",
        latchkey::service::users::NewUser {
            email: latchkey::domain::Email::parse(email).unwrap(),
            name: String::new(),
            password: Some(secrecy::SecretString::from(PASSWORD)),
            admin: false,
            verified: true,
        },
    )
    .await
    .unwrap();
    let browser = Browser::new(&app);
    let login = browser.follow(browser.get("/login").await).await;
    let page = browser.login(&login, email, PASSWORD).await;
    let wrong = post(
        &browser,
        &page,
        "/account/email",
        &[("email", "after@example.com"), ("password", "not it")],
    )
    .await;
    assert!(wrong.body().contains("current password is not right"));
    let asked = post(
        &browser,
        &wrong,
        "/account/email",
        &[("email", "after@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert!(asked.body().contains("We sent a link to the new address"));
    assert!(
        asked.body().contains(email),
        "nothing changes before the link is followed"
    );

    let link = smtp
        .wait_for("after@example.com")
        .await
        .links()
        .into_iter()
        .find(|l| l.contains("verify-email"))
        .unwrap();
    let done = browser.follow(browser.get(&link).await).await;
    assert!(done.body().contains("Email address changed"), "{}", done.body());
    let notice = smtp.wait_for(email).await;
    assert!(notice.text().contains("after@example.com"));
    let fresh = Browser::new(&app);
    let login = fresh.follow(fresh.get("/login").await).await;
    assert!(
        fresh
            .login(&login, "after@example.com", PASSWORD)
            .await
            .url()
            .ends_with("/account")
    );
    // The link works once.
    let again = browser.follow(browser.get(&link).await).await;
    assert!(again.body().contains("Link not valid"));
}
