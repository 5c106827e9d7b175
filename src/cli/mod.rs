//! The `latchkey` command line (DESIGN.md, "Command line"). Scripts depend on these names.
//!
//! Exit codes: 0 done; 1 the command failed (unknown user, duplicate email, ...);
//! 2 the invocation or configuration is wrong (bad flag, bad `DATABASE_URL`, ...).

mod output;

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::config::{self, Settings};
use crate::db::{BadDatabaseUrl, Db};
use crate::domain::Email;
use crate::error::AppError;
use crate::service::{clients, users};

/// The actor recorded in the audit log for command-line actions.
const CLI_ACTOR: &str = "cli";

#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about = "A standalone OpenID Connect identity provider")]
pub struct Cli {
    /// Print the result as one JSON object on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user.
    Create(UserCreate),
    /// List users.
    List,
    /// Disable a user: they can no longer sign in.
    Disable { email: String },
    /// Enable a disabled user.
    Enable { email: String },
    /// Delete a user.
    Delete { email: String },
}

#[derive(Debug, Args)]
struct UserCreate {
    #[arg(long)]
    email: String,
    #[arg(long, default_value = "")]
    name: String,
    /// Read the password from the first line of stdin (never from the command line).
    #[arg(long)]
    password_stdin: bool,
    /// Grant the `admin` role.
    #[arg(long)]
    admin: bool,
    /// Mark the email address as verified.
    #[arg(long)]
    verified: bool,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Register a client; prints its id and, for confidential clients, its secret (once).
    Create(ClientCreate),
    /// List clients.
    List,
    /// Delete a client.
    Delete {
        // Generated ids may begin with '-' (base64url): never read them as flags.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Issue a new secret; the old one stops working at once.
    RotateSecret {
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

#[derive(Debug, Args)]
struct ClientCreate {
    #[arg(long)]
    name: String,
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// A public client (SPA, native app): no secret, PKCE required.
    #[arg(long)]
    public: bool,
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// First-party client: users are not asked for consent.
    #[arg(long)]
    skip_consent: bool,
    /// Allowed grant (repeatable): authorization_code, refresh_token, client_credentials.
    #[arg(long = "grant")]
    grants: Vec<String>,
    /// Resource / audience URI the client may ask tokens for (repeatable).
    #[arg(long = "resource")]
    resources: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List signing keys and their state.
    List,
    /// Make a new key: published at once, signing after LATCHKEY_KEY_PREPUBLISH.
    Rotate,
    /// Remove a key from the JWKS and delete it (not the active key).
    Retire {
        // A thumbprint is base64url and may begin with '-'.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

/// Parses the command line and runs it. Never panics: every failure is one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_vars(&config::process_vars()) {
        Ok(s) => s,
        Err(err) => return fail(&err, 2),
    };
    crate::telemetry::init_tracing(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => return fail(&err.into(), 1),
    };
    match runtime.block_on(run(cli, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = if err.downcast_ref::<BadDatabaseUrl>().is_some() {
                2
            } else {
                1
            };
            fail(&err, code)
        }
    }
}

fn fail(err: &anyhow::Error, code: u8) -> ExitCode {
    eprintln!("error: {err:#}");
    ExitCode::from(code)
}

async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Serve => {
            let app = crate::startup::Application::build(settings).await?;
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate => {
            let applied =
                tokio::task::spawn_blocking(move || Db::connect(settings.database_url())?.migrate()).await??;
            output::migrated(json, &applied);
            Ok(())
        }
        Command::User(cmd) => user(cmd, &open_db(&settings).await?, json).await,
        Command::Client(cmd) => client(cmd, &open_db(&settings).await?, &settings, json).await,
        Command::Keys(cmd) => keys(cmd, &settings, json).await,
    }
}

/// Connects and migrates, so the CLI works on a fresh database before the first `serve`.
async fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let url = settings.database_url().to_owned();
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url)?;
        db.migrate()?;
        Ok(db)
    })
    .await?
}

async fn user(cmd: UserCommand, db: &Db, json: bool) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create(args) => {
            let email = Email::parse(&args.email).map_err(AppError::from)?;
            let password = if args.password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let new = users::NewUser {
                email,
                name: args.name,
                password,
                admin: args.admin,
                verified: args.verified,
            };
            output::user(json, "created", &users::create(db, CLI_ACTOR, new).await?);
        }
        UserCommand::List => output::users(json, &users::list(db).await?),
        UserCommand::Disable { email } => output::user(
            json,
            "disabled",
            &users::set_disabled(db, CLI_ACTOR, &parse_email(&email)?, true).await?,
        ),
        UserCommand::Enable { email } => output::user(
            json,
            "enabled",
            &users::set_disabled(db, CLI_ACTOR, &parse_email(&email)?, false).await?,
        ),
        UserCommand::Delete { email } => output::user(
            json,
            "deleted",
            &users::delete(db, CLI_ACTOR, &parse_email(&email)?).await?,
        ),
    }
    Ok(())
}

fn parse_email(raw: &str) -> Result<Email, AppError> {
    Ok(Email::parse(raw)?)
}

/// The first line of stdin, without its line ending.
fn read_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("--password-stdin was given but stdin held no password");
    }
    Ok(SecretString::from(password))
}

async fn client(cmd: ClientCommand, db: &Db, settings: &Settings, json: bool) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create(args) => {
            let new = clients::NewClient {
                name: args.name,
                redirect_uris: args.redirect_uris,
                post_logout_redirect_uris: args.post_logout_redirect_uris,
                public: args.public,
                skip_consent: args.skip_consent,
                grant_types: args.grants,
                resources: args.resources,
            };
            let created = clients::create(db, CLI_ACTOR, new, !settings.is_production()).await?;
            output::client(json, &created);
        }
        ClientCommand::List => output::clients(json, &clients::list(db).await?),
        ClientCommand::Delete { id } => {
            clients::delete(db, CLI_ACTOR, &id).await?;
            output::client_deleted(json, &id);
        }
        ClientCommand::RotateSecret { id } => output::client(json, &clients::rotate_secret(db, CLI_ACTOR, &id).await?),
    }
    Ok(())
}

async fn keys(cmd: KeysCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
    use crate::crypto::keys;
    let dir = settings.keys_dir.clone();
    let prepublish = settings.key_prepublish;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        match cmd {
            KeysCommand::List => output::keys(json, &keys::list(&dir)?),
            KeysCommand::Rotate => output::key(json, "created", &keys::rotate(&dir, prepublish)?),
            KeysCommand::Retire { kid } => output::key(json, "retired", &keys::retire(&dir, &kid)?),
        }
        Ok(())
    })
    .await?
}
