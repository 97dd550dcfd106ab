//! Process-wide settings of the web engine, which it reads from the environment at start.

use std::ffi::OsStr;

/// JavaScriptCore's switch for all its JIT compilers; WebKitGTK's UI and web processes read it
/// when they start (the web process inherits our environment).
pub const JIT_ENV: &str = "JSC_useJIT";

/// What `JSC_useJIT` should be set to, given its current value: JIT off, unless the user chose.
///
/// Why off: the UI is a small script the interpreter runs fast enough (opening a room of 10,000
/// cached messages and the typing indicator measured the same with and without JIT), while JIT
/// code and the compilers' data cost the web process about 9 MiB. And an engine without JIT has
/// no writable-and-executable memory for an exploit to aim at.
pub fn jit_setting(current: Option<&OsStr>) -> Option<&'static str> {
    current.is_none().then_some("false")
}

/// Applies [`jit_setting`] on Linux (WebKitGTK; other platforms' web views ignore it). Call it
/// first thing in `main`: changing the environment is only sound before other threads start.
pub fn configure() {
    #[cfg(target_os = "linux")]
    if let Some(value) = jit_setting(std::env::var_os(JIT_ENV).as_deref()) {
        std::env::set_var(JIT_ENV, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jit_is_turned_off_unless_the_user_set_it() {
        assert_eq!(jit_setting(None), Some("false"));
        assert_eq!(jit_setting(Some(OsStr::new("true"))), None);
        assert_eq!(jit_setting(Some(OsStr::new(""))), None);
    }
}
