//! Tauri's build step, with an app manifest: every app command gets an `allow-<name>`
//! permission, and only what `capabilities/` grants can be called.

include!("src/command_names.rs");

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; say why first.
        panic!("tauri-build failed: {error:#}");
    }
}
