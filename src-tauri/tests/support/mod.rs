//! What the IPC tests share: the app on Tauri's mock runtime with its real config and
//! capabilities, calls as the webview makes them, and bounded waits.
#![allow(dead_code)] // each test file uses a part

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use natter_client::ProfileName;
use natter_desktop::AppState;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

/// The bound on every wait in this test.
pub const WAIT: Duration = Duration::from_secs(30);

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub fn invoke(
    webview: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: if cfg!(windows) {
            "http://tauri.localhost"
        } else {
            "tauri://localhost"
        }
        .parse()
        .map_err(|_| json!("bad url"))?,
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(webview, request).map(|body| body.deserialize::<Value>().unwrap_or_default())
}

/// Calls `cmd` with a raw body (bytes) and headers, as `invoke(cmd, Uint8Array, {headers})` does.
pub fn invoke_raw(
    webview: &WebviewWindow<MockRuntime>,
    cmd: &str,
    body: Vec<u8>,
    headers: &[(&'static str, &str)],
) -> Result<Value, Value> {
    let mut map = tauri::http::HeaderMap::new();
    for (name, value) in headers {
        let value = tauri::http::HeaderValue::from_str(value).map_err(|_| json!("bad header"))?;
        map.insert(*name, value);
    }
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: if cfg!(windows) {
            "http://tauri.localhost"
        } else {
            "tauri://localhost"
        }
        .parse()
        .map_err(|_| json!("bad url"))?,
        body: InvokeBody::Raw(body),
        headers: map,
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(webview, request).map(|body| body.deserialize::<Value>().unwrap_or_default())
}

/// Runs `future` on Tauri's runtime (where the commands run too), bounded by [`WAIT`].
pub fn wait<F: Future>(future: F) -> Result<F::Output, tokio::time::error::Elapsed> {
    tauri::async_runtime::block_on(async move { tokio::time::timeout(WAIT, future).await })
}

/// Calls `cmd` until `done` holds for its answer (bounded by [`WAIT`]).
pub fn invoke_until(
    webview: &WebviewWindow<MockRuntime>,
    cmd: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, Box<dyn std::error::Error>> {
    wait(async {
        loop {
            if let Ok(answer) = invoke(webview, cmd, json!({})) {
                if done(&answer) {
                    return answer;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .map_err(|_| format!("`{cmd}` did not reach the expected answer within {WAIT:?}").into())
}

/// The app on the mock runtime with its real config and capabilities, for profile folder `dir`,
/// and its `main` window (config windows are made only once an app runs, so it is made here).
pub fn start_app(
    dir: &Path,
) -> Result<(App<MockRuntime>, WebviewWindow<MockRuntime>), Box<dyn std::error::Error>> {
    let state = AppState::new(ProfileName::parse("test")?, dir.to_path_buf());
    let app = natter_desktop::app(mock_builder(), state).build(natter_desktop::context())?;
    natter_desktop::built(app.handle());
    let webview = match app.get_webview_window("main") {
        Some(webview) => webview,
        None => WebviewWindowBuilder::new(&app, "main", Default::default()).build()?,
    };
    Ok((app, webview))
}
