//! `natter-relay admin …`: the admin actions on the relay's database itself (`natter.db` in the
//! data directory, or PostgreSQL at `--database-url`), through the `Store` trait, for an owner
//! locked out of the app (no admin left who can sign in, a lost password). Safe while the relay
//! runs (SQLite takes turns; PostgreSQL's transactions do); a running relay notices a disabled
//! account or a reset password at its next sign-on, not at once: its live sockets stay until
//! then.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use natter_protocol::admin::Role;
use natter_protocol::invite::InviteLink;

use crate::admin::{make_invite, new_password};
use crate::auth::Passwords;
use crate::store::{SessionPolicy, SqliteStore, Store, StoreError};
use crate::{open_database_url, StartError, DB_FILE};

#[derive(Debug, Parser)]
#[command(
    name = "natter-relay admin",
    about = "Admin actions on a relay's database (works while the relay is stopped)"
)]
pub struct AdminArgs {
    /// The relay's data directory (holding natter.db). Default: the OS data directory.
    #[arg(long, env = "NATTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The relay's PostgreSQL database instead of natter.db (a relay built with the `postgres`
    /// feature): postgres://user:password@host:port/database.
    #[arg(long, env = "NATTER_DATABASE_URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Makes an invite and prints its code (and an invite string with --server).
    CreateInvite {
        /// How many accounts it may create.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(natter_protocol::limits::INVITE_MAX_USES)))]
        uses: u32,
        /// Seconds until it expires (default: never).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=natter_protocol::limits::INVITE_MAX_EXPIRY_SECS))]
        expires_in_secs: Option<u64>,
        /// The accounts it creates are admins.
        #[arg(long)]
        admin: bool,
        /// The relay's address as people reach it, for the invite string.
        #[arg(long)]
        server: Option<String>,
    },
    /// Lists every account: name, role, disabled, created, last seen.
    ListUsers,
    /// Makes an account an admin.
    Promote { username: String },
    /// Makes an admin a member (never the last admin).
    Demote { username: String },
    /// Sets a new password and ends the account's sessions: a random one, printed, or with
    /// --password-stdin the first line of standard input (held to a registration's rules; never
    /// an argument, which other users of the computer could see in the process list).
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disables an account: it cannot sign in; its sessions end.
    Disable { username: String },
    /// Enables a disabled account.
    Enable { username: String },
    /// Deletes an account (never the last admin); see docs/self-hosting.md for what stays.
    Delete { username: String },
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Args(#[from] clap::Error),
    #[error("no data directory: pass --data-dir or set NATTER_DATA_DIR")]
    NoDataDir,
    #[error("no relay database at {0}")]
    NoDatabase(PathBuf),
    #[error("no such user: {0}")]
    NoSuchUser(String),
    #[error("the relay must keep at least one admin: promote another first")]
    LastAdmin,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] StartError),
    #[error("{0}")]
    Other(String),
    #[error("cannot write the answer: {0}")]
    Io(#[from] std::io::Error),
}

/// Parses `args` (starting with the program name, then `admin`) and runs the command, writing
/// its answer to `out`.
pub async fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // "natter-relay admin ARGS" parses as "natter-relay-admin ARGS".
    if args.get(1).is_some_and(|a| a == "admin") {
        args.remove(1);
    }
    let parsed = AdminArgs::try_parse_from(args)?;
    if let Some(url) = &parsed.database_url {
        // The session policy is the relay's to apply at sign-on; these actions only end sessions.
        let store = open_database_url(url, SessionPolicy::default()).await?;
        return execute(store.as_ref(), parsed.command, out).await;
    }
    let dir = parsed
        .data_dir
        .or_else(|| {
            directories::ProjectDirs::from("org", "Natter", "natter-relay")
                .map(|dirs| dirs.data_dir().to_path_buf())
        })
        .ok_or(AdminError::NoDataDir)?;
    let db = dir.join(DB_FILE);
    if !db.is_file() {
        return Err(AdminError::NoDatabase(db));
    }
    let store = SqliteStore::open(&db).await?;
    execute(&store, parsed.command, out).await
}

async fn execute(
    store: &dyn Store,
    command: Command,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let target = |name: String| async move {
        let found = store.account(&name).await?;
        found.ok_or(AdminError::NoSuchUser(name))
    };
    let last_admin = |e: StoreError| match e {
        StoreError::LastAdmin => AdminError::LastAdmin,
        e => AdminError::Store(e),
    };
    match command {
        Command::CreateInvite {
            uses,
            expires_in_secs,
            admin,
            server,
        } => {
            let role = if admin { Role::Admin } else { Role::Member };
            let (invite, code) = make_invite(store, role, uses, expires_in_secs, None)
                .await
                .map_err(|e| AdminError::Other(e.to_string()))?;
            writeln!(
                out,
                "invite {} ({} use(s), {})",
                invite.id,
                uses,
                role.as_str()
            )?;
            writeln!(out, "code: {code}")?;
            if let Some(server) = server {
                writeln!(
                    out,
                    "invite string: {}",
                    InviteLink { server, code }.format()
                )?;
            }
        }
        Command::ListUsers => {
            let mut after: Option<String> = None;
            loop {
                let page = store.accounts(after.as_deref(), 500).await?;
                for a in &page {
                    let state = if a.disabled { "disabled" } else { "active" };
                    let seen = a.last_seen.as_deref().unwrap_or("never");
                    writeln!(
                        out,
                        "{}\t{}\t{}\tcreated {}\tlast seen {}",
                        a.user.username,
                        a.role.as_str(),
                        state,
                        a.created_at,
                        seen
                    )?;
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = Some(last.user.username.clone()),
                    _ => break,
                }
            }
        }
        Command::Promote { username } => {
            let a = target(username).await?;
            store
                .set_role(&a.user.id, Role::Admin)
                .await
                .map_err(last_admin)?;
            writeln!(out, "{} is now an admin", a.user.username)?;
        }
        Command::Demote { username } => {
            let a = target(username).await?;
            store
                .set_role(&a.user.id, Role::Member)
                .await
                .map_err(last_admin)?;
            writeln!(out, "{} is now a member", a.user.username)?;
        }
        Command::ResetPassword {
            username,
            password_stdin,
        } => {
            let chosen = if password_stdin {
                Some(password_from_stdin()?)
            } else {
                None
            };
            let a = target(username).await?;
            let password = chosen.clone().unwrap_or_else(new_password);
            let hash = Passwords::default()
                .hash(password.clone())
                .await
                .map_err(|e| AdminError::Other(e.to_string()))?;
            let ended = store.set_password(&a.user.id, &hash, None).await?;
            // A chosen password is not printed back: whoever typed it knows it.
            let shown = if chosen.is_some() {
                "the one given".to_owned()
            } else {
                password
            };
            writeln!(
                out,
                "new password for {}: {shown} ({} session(s) ended)",
                a.user.username,
                ended.len()
            )?;
        }
        Command::Disable { username } => {
            let a = target(username).await?;
            let ended = store
                .set_disabled(&a.user.id, true)
                .await
                .map_err(last_admin)?;
            writeln!(
                out,
                "{} is disabled ({} session(s) ended)",
                a.user.username,
                ended.len()
            )?;
        }
        Command::Enable { username } => {
            let a = target(username).await?;
            store.set_disabled(&a.user.id, false).await?;
            writeln!(out, "{} is enabled", a.user.username)?;
        }
        Command::Delete { username } => {
            let a = target(username).await?;
            store.delete_user(&a.user.id).await.map_err(last_admin)?;
            writeln!(out, "{} is deleted", a.user.username)?;
        }
    }
    Ok(())
}

/// The first line of standard input (its line ending cut), checked like a registration's
/// password.
fn password_from_stdin() -> Result<String, AdminError> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    natter_protocol::validate::password(&password)
        .map_err(|e| AdminError::Other(format!("--password-stdin: {}", e.message)))?;
    Ok(password)
}
