//! Profiles: one folder of data per profile name under the OS data dir, so two instances of the
//! app can run side by side. A profile name is a folder name, so it is validated.

use std::path::{Path, PathBuf};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";
/// The longest profile name, in characters.
pub const PROFILE_NAME_MAX_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("a profile name cannot be empty")]
    Empty,
    #[error("a profile name is at most {PROFILE_NAME_MAX_CHARS} characters")]
    TooLong,
    #[error("a profile name cannot be `.` or `..`, or hold `/`, `\\`, control or `:` characters")]
    NotAFolderName,
    #[error("this system has no data directory for the current user")]
    NoDataDir,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A validated profile name: safe to use as one path component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileName(String);

impl ProfileName {
    pub fn parse(name: &str) -> Result<Self, ProfileError> {
        if name.is_empty() {
            return Err(ProfileError::Empty);
        }
        if name.chars().count() > PROFILE_NAME_MAX_CHARS {
            return Err(ProfileError::TooLong);
        }
        let bad_char = |c: char| c.is_control() || matches!(c, '/' | '\\' | ':' | '\0');
        if name == "." || name == ".." || name.chars().any(bad_char) {
            return Err(ProfileError::NotAFolderName);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where every profile lives: `<OS data dir>/profiles` for org `Natter`, app `natter`.
pub fn profiles_root() -> Result<PathBuf, ProfileError> {
    directories::ProjectDirs::from("org", "Natter", "natter")
        .map(|dirs| dirs.data_dir().join("profiles"))
        .ok_or(ProfileError::NoDataDir)
}

/// The folder of profile `name` under `root`, created if missing (mode 0700 on unix).
pub fn profile_dir(root: &Path, name: &ProfileName) -> Result<PathBuf, ProfileError> {
    let dir = root.join(name.as_str());
    let io = |source| ProfileError::Io {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_folders_pass() {
        for name in [
            "default",
            "work",
            "Alice's laptop",
            "été",
            "a.b-c_d",
            &"x".repeat(64),
        ] {
            assert!(ProfileName::parse(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn names_that_escape_or_break_the_folder_are_refused() {
        for name in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "a\\b",
            "c:",
            "a\nb",
            &"x".repeat(65),
        ] {
            assert!(ProfileName::parse(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn profile_dir_is_created_under_the_root_and_private() -> Result<(), ProfileError> {
        let root = tempfile::tempdir().map_err(|source| ProfileError::Io {
            path: PathBuf::new(),
            source,
        })?;
        let dir = profile_dir(root.path(), &ProfileName::parse("work")?)?;
        assert_eq!(dir, root.path().join("work"));
        assert!(dir.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir)
                .map(|m| m.permissions().mode() & 0o777)
                .ok();
            assert_eq!(mode, Some(0o700));
        }
        Ok(())
    }
}
