//! What the commands print: a short human text, or one JSON object with `--json`.

use serde::Serialize;
use serde_json::json;

use crate::crypto::keys::KeyInfo;
use crate::service::clients::ClientView;
use crate::service::users::UserView;

fn print_json<T: Serialize>(value: &T) {
    // Serializing our own plain structs cannot fail; print nothing rather than panic if it did.
    if let Ok(text) = serde_json::to_string(value) {
        println!("{text}");
    }
}

pub fn migrated(json: bool, applied: &[String]) {
    if json {
        print_json(&json!({ "applied": applied }));
    } else if applied.is_empty() {
        println!("database is up to date");
    } else {
        println!("applied {} migration(s): {}", applied.len(), applied.join(", "));
    }
}

pub fn user(json: bool, verb: &str, user: &UserView) {
    if json {
        print_json(user);
    } else {
        println!("{verb} user {} <{}>", user.id, user.email);
    }
}

pub fn users(json: bool, users: &[UserView]) {
    if json {
        print_json(&json!({ "users": users }));
        return;
    }
    println!(
        "{:<36}  {:<32}  {:<8}  {:<8}  ROLES",
        "ID", "EMAIL", "VERIFIED", "DISABLED"
    );
    for u in users {
        println!(
            "{:<36}  {:<32}  {:<8}  {:<8}  {}",
            u.id,
            u.email,
            u.email_verified,
            u.disabled,
            u.roles.join(" ")
        );
    }
}

pub fn client(json: bool, client: &ClientView) {
    if json {
        print_json(client);
        return;
    }
    println!("client_id:     {}", client.client_id);
    if let Some(secret) = &client.client_secret {
        println!("client_secret: {secret}");
        println!("(the secret is shown only now: store it in your application's configuration)");
    }
}

pub fn clients(json: bool, clients: &[ClientView]) {
    if json {
        print_json(&json!({ "clients": clients }));
        return;
    }
    println!("{:<24}  {:<12}  {:<24}  REDIRECT URIS", "CLIENT ID", "TYPE", "NAME");
    for c in clients {
        let kind = if c.public { "public" } else { "confidential" };
        println!(
            "{:<24}  {:<12}  {:<24}  {}",
            c.client_id,
            kind,
            c.name,
            c.redirect_uris.join(" ")
        );
    }
}

pub fn client_deleted(json: bool, client_id: &str) {
    if json {
        print_json(&json!({ "client_id": client_id, "deleted": true }));
    } else {
        println!("deleted client {client_id}");
    }
}

pub fn keys(json: bool, keys: &[KeyInfo]) {
    if json {
        print_json(&json!({ "keys": keys }));
        return;
    }
    println!("{:<43}  {:<9}  {:<20}  SIGNS FROM", "KID", "STATE", "CREATED");
    for k in keys {
        let state = serde_json::to_value(k.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "{:<43}  {:<9}  {:<20}  {}",
            k.kid,
            state,
            k.created_at.format("%Y-%m-%d %H:%M:%S"),
            k.activates_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
}

pub fn key(json: bool, verb: &str, key: &KeyInfo) {
    if json {
        print_json(key);
    } else {
        println!(
            "{verb} key {} (signs from {} UTC)",
            key.kid,
            key.activates_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
}
