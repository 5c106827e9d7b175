//! One browser session through each provider's sign-in, and the token requests.

use super::*;
// ---------------------------------------------------------------------------------------
// Sign-in flow

/// The cookies of one browser session (path and expiry ignored, like a minimal browser
/// on one host).
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, res: &reqwest::Response) {
        for header in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let cleared =
                value.is_empty() || text.to_ascii_lowercase().contains("max-age=0") || text.contains("1970 00:00:00");
            if cleared {
                self.0.remove(name.trim());
            } else {
                self.0.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

struct Browser<'a> {
    http: &'a reqwest::Client,
    jar: Jar,
}

impl Browser<'_> {
    async fn get(&mut self, url: &url::Url) -> Result<reqwest::Response, String> {
        let mut req = self.http.get(url.clone());
        if !self.jar.0.is_empty() {
            req = req.header(reqwest::header::COOKIE, self.jar.header());
        }
        let res = req.send().await.map_err(|e| format!("GET {}: {e}", url.path()))?;
        self.jar.take(&res);
        Ok(res)
    }

    async fn post_form(&mut self, url: &url::Url, form: &[(&str, &str)]) -> Result<reqwest::Response, String> {
        let mut req = self.http.post(url.clone()).form(form);
        if !self.jar.0.is_empty() {
            req = req.header(reqwest::header::COOKIE, self.jar.header());
        }
        let res = req.send().await.map_err(|e| format!("POST {}: {e}", url.path()))?;
        self.jar.take(&res);
        Ok(res)
    }
}

fn location(base: &url::Url, res: &reqwest::Response) -> Result<url::Url, String> {
    let status = res.status();
    let loc = res
        .headers()
        .get(reqwest::header::LOCATION)
        .ok_or_else(|| format!("{} {status} without Location", res.url().path()))?
        .to_str()
        .map_err(|e| format!("bad Location: {e}"))?;
    base.join(loc).map_err(|e| format!("bad Location {loc:?}: {e}"))
}

/// The value of a hidden form field, HTML entities decoded.
fn field(body: &str, name: &str) -> Result<String, String> {
    let re = regex_lite::Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).unwrap();
    let raw = re
        .captures(body)
        .ok_or_else(|| format!("no field {name} in the login page"))?[1]
        .to_owned();
    Ok(html_unescape(&raw))
}

fn html_unescape(s: &str) -> String {
    let re = regex_lite::Regex::new(r"&(#[0-9]+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);").unwrap();
    re.replace_all(s, |c: &regex_lite::Captures| {
        let e = &c[1];
        let ch = match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            _ => e[1..].parse().ok().and_then(char::from_u32),
        };
        ch.map_or_else(|| c[0].to_owned(), String::from)
    })
    .into_owned()
}

pub(crate) fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// One complete sign-in as a fresh browser: authorization request, login (and consent at
/// the peer), redirect back with a code, code exchange. Returns the token response.
pub(crate) async fn sign_in(http: &reqwest::Client, a: &Auth) -> Result<serde_json::Value, String> {
    let base = loopback(&a.base);
    let verifier = random_b64(32);
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let state = random_b64(16);
    let mut url = base
        .join(match a.target {
            Target::Latchkey => "/authorize",
            Target::Peer => "/auth",
        })
        .unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &a.client_id)
            .append_pair("redirect_uri", &a.redirect)
            .append_pair("scope", "openid email offline_access")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if a.target == Target::Peer {
            // node-oidc-provider drops offline_access unless consent is prompted.
            q.append_pair("prompt", "consent");
        }
    }
    let mut b = Browser {
        http,
        jar: Jar::default(),
    };
    let mut res = b.get(&url).await?;
    let mut hops = 0;
    let back = loop {
        if !res.status().is_redirection() {
            let status = res.status();
            let path = res.url().path().to_owned();
            let body = res.text().await.unwrap_or_default();
            return Err(format!(
                "{path} answered {status} instead of a redirect: {}",
                body.chars().take(200).collect::<String>()
            ));
        }
        let next = location(&base, &res)?;
        if next.as_str().starts_with(&a.redirect) {
            break next;
        }
        hops += 1;
        if hops > MAX_HOPS {
            return Err(format!("more than {MAX_HOPS} redirects"));
        }
        if next.host_str() != Some("127.0.0.1") {
            return Err(format!("redirect off loopback: {next}"));
        }
        res = match (a.target, next.path()) {
            (Target::Latchkey, "/login") => {
                let page = b.get(&next).await?;
                if page.status() != 200 {
                    return Err(format!("login page answered {}", page.status()));
                }
                let page = page.text().await.map_err(|e| e.to_string())?;
                let csrf = field(&page, "csrf_token")?;
                let request = field(&page, "request")?;
                let form = [
                    ("csrf_token", csrf.as_str()),
                    ("request", request.as_str()),
                    ("email", a.email.as_str()),
                    ("password", a.password.as_str()),
                ];
                b.post_form(&base.join("/login").unwrap(), &form).await?
            }
            (Target::Peer, path) if path.starts_with("/interaction/") => {
                let page = b.get(&next).await?;
                if page.status() != 200 {
                    return Err(format!("interaction page answered {}", page.status()));
                }
                let page = page.text().await.map_err(|e| e.to_string())?;
                let re = regex_lite::Regex::new(r#"action="([^"]+)""#).unwrap();
                let action = re.captures(&page).ok_or("no form in the interaction page")?[1].to_owned();
                let action = base.join(&html_unescape(&action)).map_err(|e| e.to_string())?;
                if action.path().ends_with("/login") {
                    let form = [("email", a.email.as_str()), ("password", a.password.as_str())];
                    b.post_form(&action, &form).await?
                } else {
                    b.post_form(&action, &[]).await?
                }
            }
            (_, "/consent") => return Err("unexpected consent page (client without --skip-consent?)".into()),
            _ => b.get(&next).await?,
        };
    };
    let mut code = None;
    let mut got_state = None;
    for (k, v) in back.query_pairs() {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "state" => got_state = Some(v.into_owned()),
            "error" => return Err(format!("redirected back with error: {back}")),
            _ => {}
        }
    }
    let code = code.ok_or_else(|| format!("no code in {back}"))?;
    if got_state.as_deref() != Some(state.as_str()) {
        return Err(format!("state mismatch in {back}"));
    }
    token_request(
        http,
        &base,
        a,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &a.redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await
}

/// POST /token with client_secret_basic; Ok only for a 200 with an access token.
pub(crate) async fn token_request(
    http: &reqwest::Client,
    base: &url::Url,
    a: &Auth,
    form: &[(&str, &str)],
) -> Result<serde_json::Value, String> {
    let res = http
        .post(base.join("/token").unwrap())
        .basic_auth(&a.client_id, Some(&a.secret))
        .form(form)
        .send()
        .await
        .map_err(|e| format!("POST /token: {e}"))?;
    let status = res.status();
    let body = res.text().await.map_err(|e| format!("POST /token body: {e}"))?;
    if status != 200 {
        return Err(format!(
            "/token answered {status}: {}",
            body.chars().take(300).collect::<String>()
        ));
    }
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("/token: bad JSON: {e}"))?;
    if !json["access_token"].is_string() {
        return Err(format!("/token without access_token: {body}"));
    }
    Ok(json)
}

pub(crate) async fn refresh_once(
    http: &reqwest::Client,
    a: &Auth,
    refresh_token: &str,
) -> Result<serde_json::Value, String> {
    let base = loopback(&a.base);
    let json = token_request(
        http,
        &base,
        a,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
    )
    .await?;
    if !json["refresh_token"].is_string() {
        return Err("refresh response without a new refresh_token".into());
    }
    Ok(json)
}
