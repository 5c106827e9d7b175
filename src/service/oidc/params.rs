//! Authorization request parameters: carried through login and consent as a query string,
//! and appended to redirect URIs.

use url::Url;

/// Appends parameters to a URI that may already have a query (RFC 6749 §3.1.2 keeps it).
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

/// The request's parameters with `value` removed from `prompt`, once it has been satisfied
/// (after login, `prompt=login` must not send the user to the login page again).
pub fn without_prompt(params: &[(String, String)], value: &str) -> Vec<(String, String)> {
    params
        .iter()
        .filter_map(|(k, v)| {
            if k != "prompt" {
                return Some((k.clone(), v.clone()));
            }
            let rest: Vec<&str> = v.split(' ').filter(|p| !p.is_empty() && *p != value).collect();
            (!rest.is_empty()).then(|| (k.clone(), rest.join(" ")))
        })
        .collect()
}

/// The request to resume after a successful login: the sign-in just made satisfies both
/// `prompt=login` and any `max_age`, so neither may send the user back to the login page.
pub fn after_login(params: &[(String, String)]) -> Vec<(String, String)> {
    without_prompt(params, "login")
        .into_iter()
        .filter(|(k, _)| k != "max_age")
        .collect()
}

/// Serializes parameters as a query string.
pub fn to_query(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_satisfied_prompt_is_removed_and_the_rest_kept() {
        let params = pairs(&[("client_id", "c"), ("prompt", "login consent")]);
        assert_eq!(
            without_prompt(&params, "login"),
            pairs(&[("client_id", "c"), ("prompt", "consent")])
        );
        assert_eq!(without_prompt(&pairs(&[("prompt", "login")]), "login"), pairs(&[]));
    }

    #[test]
    fn redirect_parameters_are_appended_to_an_existing_query() {
        let url = with_query(
            "https://app.example.com/cb?tenant=a",
            &[("code", "x y"), ("state", "s")],
        );
        assert_eq!(url, "https://app.example.com/cb?tenant=a&code=x+y&state=s");
    }
}
