//! S11 (issue 22, item 10): the relay creates its data directory 0700 and its database files
//! 0600, whatever the umask (the test runs under the usual 022): password hashes and messages
//! are not for other users of a shared host. A message is sent first, so the `-wal` and `-shm`
//! files exist too.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use natter_protocol::requests::SendMessage;
use natter_protocol::GENERAL_ROOM_ID;

use crate::harness::{self, assert_alive};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s11_the_data_dir_and_database_are_private() {
    let _serial = harness::serial().await;
    let parent = tempfile::tempdir().expect("a temp dir");
    // A directory the relay creates itself, one level below one that exists.
    let dir = parent.path().join("relay").join("data");
    let (mut relay, api) = harness::start(&harness::spec(&dir, &[])).await;
    let (_, alice) = api.join("alice").await;
    alice
        .request(&SendMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: "s11".to_owned(),
            body: "a secret".to_owned(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("a message");
    let db = dir.join(natter_relay::DB_FILE);
    let mut modes = vec![(dir.clone(), mode(&dir), 0o700)];
    for file in [
        db.clone(),
        db.with_extension("db-wal"),
        db.with_extension("db-shm"),
    ] {
        modes.push((file.clone(), mode(&file), 0o600));
    }
    eprintln!(
        "S11: {}",
        modes
            .iter()
            .map(|(p, m, _)| format!(
                "{} {m:o}",
                p.file_name().unwrap_or_default().to_string_lossy()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (path, got, want) in &modes {
        assert_eq!(got, want, "{}: mode {got:o}, want {want:o}", path.display());
    }
    assert_alive(&mut relay, "after S11");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
