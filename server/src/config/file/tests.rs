//! The config file through `load_from`, with the command line but not the environment (the
//! binary's tests in `server/tests/relay/config_file.rs` add it).

use std::io::Write;

use super::*;

/// A config file holding `toml`, kept until the guard drops.
fn file(toml: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    file.write_all(toml.as_bytes())
        .expect("write the config file");
    file
}

fn load(file: &tempfile::NamedTempFile, flags: &[&str]) -> Result<Config, ConfigError> {
    let path = file.path().to_str().expect("a UTF-8 temp path");
    let args = ["natter-relay", "--config", path]
        .into_iter()
        .chain(flags.iter().copied());
    load_from(args)
}

#[test]
fn the_file_sets_what_no_flag_does_and_a_flag_wins() {
    let f = file("send_burst = 7\nsend_per_second = 3\nbind = \"127.0.0.9:1234\"\n");
    let config = load(&f, &["--send-burst", "9"]).expect("loads");
    assert_eq!(config.send_burst, 9, "the flag wins over the file");
    assert_eq!(config.send_per_second, 3, "the file wins over the default");
    assert_eq!(config.bind.to_string(), "127.0.0.9:1234");
}

#[test]
fn a_repeatable_flag_takes_an_array_and_a_single_one_refuses_it() {
    let f = file("trusted_proxy = [\"127.0.0.1/32\", \"::1\"]\n");
    assert_eq!(load(&f, &[]).expect("loads").trusted_proxy.len(), 2);
    let f = file("send_burst = [1, 2]\n");
    let err = load(&f, &[])
        .expect_err("an array for a single value")
        .to_string();
    assert!(
        err.contains("`send_burst`") && err.contains("found an array"),
        "{err}"
    );
}

#[test]
fn an_unknown_key_is_named_with_the_file_and_the_closest_key() {
    let f = file("sned_burst = 5\n");
    let err = load(&f, &[]).expect_err("unknown key").to_string();
    let path = f.path().display().to_string();
    assert_eq!(
        err,
        format!("unknown key `sned_burst` in {path}, did you mean `send_burst`?")
    );
    let err = load(&file("colour = 1\n"), &[])
        .expect_err("unknown key")
        .to_string();
    assert!(
        err.starts_with("unknown key `colour` in ") && !err.contains("did you mean"),
        "{err}"
    );
}

#[test]
fn a_bad_value_names_the_key_the_value_and_what_clap_expects() {
    let f = file("send_burst = 0\n");
    let err = load(&f, &[]).expect_err("0 is out of range").to_string();
    let path = f.path().display();
    assert!(
        err.starts_with(&format!("bad value for `send_burst` in {path}: ")),
        "{err}"
    );
    assert!(
        err.contains("'0'") && err.contains("1..="),
        "clap's range message: {err}"
    );
    let err = load(&file("bind = 7447\n"), &[])
        .expect_err("a port is not an address")
        .to_string();
    assert!(err.contains("`bind`") && err.contains("'7447'"), "{err}");
    let err = load(&file("log = { a = 1 }\n"), &[])
        .expect_err("a table")
        .to_string();
    assert!(
        err.contains("`log`") && err.contains("found table"),
        "{err}"
    );
}

#[test]
fn a_syntax_error_gives_the_line_and_a_missing_file_its_path() {
    let f = file("send_burst = 5\nbind = \"127.0.0.1:1\n");
    let err = load(&f, &[]).expect_err("an unclosed string").to_string();
    assert!(
        err.contains("is not valid TOML") && err.contains("line 2"),
        "{err}"
    );
    let err =
        load_from(["natter-relay", "--config", "/nonexistent/relay.toml"]).expect_err("no file");
    assert!(
        err.to_string()
            .starts_with("cannot read the config file /nonexistent/relay.toml: "),
        "{err}"
    );
}

/// Every flag has a key, whoever adds the flag: each key set to its flag's default loads.
#[test]
fn every_flag_with_a_default_is_a_key() {
    let cmd = command();
    let mut toml = String::new();
    for (key, arg) in keyed_args(&cmd) {
        if let Some(default) = arg.get_default_values().first() {
            let default = default.to_str().expect("a UTF-8 default");
            toml.push_str(&format!("{key} = {default:?}\n"));
        }
    }
    assert!(
        toml.contains("send_burst = \"30\"") && toml.contains("log = \"info\""),
        "{toml}"
    );
    load(&file(&toml), &[]).expect("every default is a valid value for its key");
}

#[test]
fn edit_distance_counts_characters() {
    assert_eq!(edit_distance("sned_burst", "send_burst"), 2);
    assert_eq!(edit_distance("", "bind"), 4);
    assert_eq!(edit_distance("bind", "bind"), 0);
}
