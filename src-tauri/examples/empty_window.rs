//! The floor for the desktop footprint benchmark (`e2e/footprint.mjs`): a bare Tauri 2 window
//! with an empty page, built with the same Tauri, features and profile as natter-desktop.

fn main() -> Result<(), tauri::Error> {
    tauri::Builder::default().run(tauri::generate_context!("examples/empty/tauri.conf.json"))
}
