//! The config file (`--config PATH`, TOML): every flag is a key, its long name in snake_case,
//! read below the flags and the environment. The keys come from clap's own `Command`, so a new
//! flag has its key with no change here.
//!
//! How: parse the command line (and environment) once; for each key of the file whose flag was
//! given neither on the command line nor in the environment, append `--flag=value`; parse
//! again. clap validates the file's values exactly as it does a flag's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};

use super::Config;

/// The flag that names the config file (its clap id and long name).
pub const CONFIG_FLAG: &str = "config";
/// The config file's environment variable.
pub const CONFIG_ENV: &str = "NATTER_CONFIG";

/// Why the relay's configuration could not be read. Each names the file when it is about one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A bad flag or environment variable, or `--help` / `--version`: clap's own report (`exit()`
    /// prints it and exits as clap does).
    #[error(transparent)]
    Args(#[from] clap::Error),
    #[error("cannot read the config file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {} is not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("unknown key `{key}` in {}{hint}", path.display())]
    UnknownKey {
        key: String,
        path: PathBuf,
        hint: String,
    },
    #[error("bad value for `{key}` in {}: {reason}", path.display())]
    BadValue {
        key: String,
        path: PathBuf,
        reason: String,
    },
    /// The file's values together with the flags are refused, not one key's (e.g. a conflict).
    #[error("the settings in {} are refused: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },
}

/// The relay's command: `Config`'s flags and `--config`.
pub fn command() -> Command {
    Config::command().arg(
        Arg::new(CONFIG_FLAG)
            .long(CONFIG_FLAG)
            .env(CONFIG_ENV)
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .help(
                "TOML file of settings: each key a flag's long name in snake_case \
                 (send_burst = 50). Flags and environment variables override it",
            ),
    )
}

/// The configuration from `args` (the first is the program's name), the environment and the
/// file `--config` names, in that order of precedence, then the defaults.
pub fn load_from<I, T>(args: I) -> Result<Config, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut argv: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(&argv)?;
    let Some(path) = matches.get_one::<PathBuf>(CONFIG_FLAG).cloned() else {
        return Ok(Config::from_arg_matches(&matches)?);
    };
    let added = file_args(&cmd, &matches, &path)?;
    argv.extend(added.into_iter().map(OsString::from));
    let matches = cmd
        .try_get_matches_from_mut(&argv)
        .map_err(|err| blame_file(&cmd, &path, err))?;
    Ok(Config::from_arg_matches(&matches)?)
}

/// The flags a config file adds: `--flag=value` for each of its keys whose flag is neither on
/// the command line nor in the environment.
fn file_args(cmd: &Command, matches: &ArgMatches, path: &Path) -> Result<Vec<String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| ConfigError::Syntax {
            path: path.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
    let mut added = Vec::new();
    for (key, value) in &table {
        let Some(arg) = keyed_args(cmd).find(|(k, _)| k == key).map(|(_, arg)| arg) else {
            return Err(ConfigError::UnknownKey {
                key: key.clone(),
                path: path.to_owned(),
                hint: hint(cmd, key),
            });
        };
        // A value of the wrong shape is refused even where a flag overrides it.
        let flags = flags(arg, value).map_err(|reason| ConfigError::BadValue {
            key: key.clone(),
            path: path.to_owned(),
            reason,
        })?;
        let given = matches!(
            matches.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if !given {
            added.extend(flags);
        }
    }
    Ok(added)
}

/// Every key and its flag: each argument with a long name except `--config`, `--help` and
/// `--version`.
fn keyed_args(cmd: &Command) -> impl Iterator<Item = (String, &Arg)> {
    cmd.get_arguments().filter_map(|arg| {
        let long = arg.get_long()?;
        let skip = [CONFIG_FLAG, "help", "version"].contains(&arg.get_id().as_str());
        (!skip).then(|| (long.replace('-', "_"), arg))
    })
}

/// The command-line form of one key's TOML value: a scalar is one `--flag=value`, an array
/// one per element (only for a flag that may repeat), a boolean the bare flag (for a switch).
fn flags(arg: &Arg, value: &toml::Value) -> Result<Vec<String>, String> {
    let long = arg.get_long().unwrap_or_default();
    let action = arg.get_action();
    if !action.takes_values() {
        let toml::Value::Boolean(on) = value else {
            return Err(format!(
                "expected true or false, found {}",
                value.type_str()
            ));
        };
        let wanted = match action {
            ArgAction::SetTrue => *on,
            ArgAction::SetFalse => !*on,
            _ => return Err(format!("--{long} cannot be set from a file")),
        };
        return Ok(wanted.then(|| format!("--{long}")).into_iter().collect());
    }
    let values = match value {
        toml::Value::Array(items) if matches!(action, ArgAction::Append) => items.iter().collect(),
        toml::Value::Array(_) => return Err("expected one value, found an array".to_owned()),
        scalar => vec![scalar],
    };
    values
        .into_iter()
        .map(|value| Ok(format!("--{long}={}", scalar(value)?)))
        .collect()
}

/// A TOML scalar as the text clap parses.
fn scalar(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "expected a string, a number or a boolean, found {}",
            other.type_str()
        )),
    }
}

/// A parse that failed only once the file's flags were added is the file's fault: name the
/// key when clap names its flag.
fn blame_file(cmd: &Command, path: &Path, err: clap::Error) -> ConfigError {
    let flag = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(flag)) => flag.clone(),
        _ => String::new(),
    };
    // clap's own message, one line, without "error: " and the usage that follows it.
    let rendered = err.render().to_string();
    let reason = rendered.lines().next().unwrap_or_default();
    let reason = reason.strip_prefix("error: ").unwrap_or(reason).to_owned();
    // Only a value's own faults are one key's; a missing or conflicting flag is the settings'.
    let about_a_value = matches!(
        err.kind(),
        ErrorKind::InvalidValue
            | ErrorKind::ValueValidation
            | ErrorKind::WrongNumberOfValues
            | ErrorKind::TooManyValues
            | ErrorKind::TooFewValues
            | ErrorKind::InvalidUtf8
    );
    let key = keyed_args(cmd).filter(|_| about_a_value).find(|(_, arg)| {
        arg.get_long().is_some_and(|long| {
            let named = flag.strip_prefix("--").and_then(|f| f.strip_prefix(long));
            named.is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '=']))
        })
    });
    let path = path.to_owned();
    match key {
        Some((key, _)) => ConfigError::BadValue { key, path, reason },
        None => ConfigError::Refused { path, reason },
    }
}

/// ", did you mean `send_burst`?" for a key within a few edits of a real one; else nothing.
fn hint(cmd: &Command, key: &str) -> String {
    if key == CONFIG_FLAG {
        return " (a config file cannot name another)".to_owned();
    }
    keyed_args(cmd)
        .map(|(k, _)| (edit_distance(key, &k), k))
        .filter(|(d, k)| *d <= 3_usize.min(k.len() / 3 + 1))
        .min()
        .map_or_else(String::new, |(_, k)| format!(", did you mean `{k}`?"))
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
