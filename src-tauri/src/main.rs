//! The desktop binary: everything lives in the library (`natter_desktop::run`).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before any thread starts: it sets environment variables.
    natter_desktop::engine::configure();
    if let Err(error) = natter_desktop::run() {
        eprintln!("natter: {error}");
        std::process::exit(1);
    }
}
